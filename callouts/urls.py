from django.urls import path

from callouts import links, twilio_status, webhooks

app_name = "callouts"
urlpatterns = [
    path("respond/<str:token>/", links.respond_link, name="respond_link"),
    path("webhooks/twilio/sms/", webhooks.sms_inbound, name="twilio_sms_inbound"),
    path("webhooks/twilio/voice/<int:delivery_id>/", webhooks.voice_call, name="twilio_voice_call"),
    path("webhooks/twilio/voice/<int:delivery_id>/answer/", webhooks.voice_answer, name="twilio_voice_answer"),
    path("webhooks/twilio/voice/<int:delivery_id>/eta/", webhooks.voice_eta, name="twilio_voice_eta"),
    path("webhooks/twilio/status/", twilio_status.status_callback, name="twilio_status"),
]
