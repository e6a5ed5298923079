from django.http import HttpResponse


def respond_link(request, **kwargs):  # placeholder until this module is written
    return HttpResponse(status=501)
