from django.urls import path

from units import feeds

app_name = "units"
urlpatterns = [
    path("feeds/person/<str:token>.ics", feeds.person_feed, name="person_feed"),
    path("feeds/unit/<str:token>.ics", feeds.unit_feed, name="unit_feed"),
]
