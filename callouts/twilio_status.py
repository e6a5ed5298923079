from django.http import HttpResponse


def status_callback(request, **kwargs):  # placeholder until this module is written
    return HttpResponse(status=501)
