from django.http import HttpResponse


def sms_inbound(request, **kwargs):  # placeholder until this module is written
    return HttpResponse(status=501)


def voice_call(request, **kwargs):  # placeholder until this module is written
    return HttpResponse(status=501)


def voice_answer(request, **kwargs):  # placeholder until this module is written
    return HttpResponse(status=501)


def voice_eta(request, **kwargs):  # placeholder until this module is written
    return HttpResponse(status=501)
