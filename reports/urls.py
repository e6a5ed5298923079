from django.urls import path

from reports.links import referral_ack_page

app_name = "reports"

urlpatterns = [
    path("referrals/ack/<str:token>/", referral_ack_page, name="referral-ack"),
]
