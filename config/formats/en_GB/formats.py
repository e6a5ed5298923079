"""Django's British formats on the 24-hour clock, as a control room and the police tell time: every date and time
the admin shows by default (change lists, history, the audit log) reads 03:27, never 3:27 a.m."""

from django.conf.locale.en_GB.formats import *  # noqa: F403

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
