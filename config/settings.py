"""Muster settings: every value comes from an environment variable with a default.

With nothing set, Muster runs on SQLite and a filesystem Celery broker in var/;
DATABASE_URL and REDIS_URL switch it to PostgreSQL and Redis.
"""

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str, *, minimum: int | None = None) -> int:
    value = os.environ.get(name, default)
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envheader(name: str, default: str) -> str:
    """An HTTP request header as Django's request.META names it: X-Forwarded-Proto becomes HTTP_X_FORWARDED_PROTO."""
    value = os.environ.get(name, default).strip().upper().replace("-", "_")
    if value and not value.startswith("HTTP_"):
        value = f"HTTP_{value}"
    if value and not re.fullmatch(r"HTTP_[A-Z0-9_]+", value):
        raise ImproperlyConfigured(f"{name} must be a header name such as HTTP_X_FORWARDED_PROTO, not {value!r}")
    return value


def envrate(name: str, default: str) -> str:
    """A DRF throttle rate such as 60/min: a whole number of requests per s, min, hour or day."""
    value = os.environ.get(name, default).strip()
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name} must be a rate such as 60/min or 10/hour, not {value!r}")
    return value


# Muster's files are its own. Every process (web server, worker, beat, manage.py, the mail sink) reads these
# settings before it writes anything, so this one umask makes all they create private, files 0600 and folders
# 0700: the SQLite database with its WAL and SHM files, the secret key, beat's schedule, the broker's messages,
# the mail sink's emails. Attachments are the exception (0640 in 0750 folders, FILE_UPLOAD_* below), and collected
# static files stay public (STORAGES).
os.umask(0o077)


def make_private(folder: Path) -> None:
    """The folder and the files directly in it, left readable to others by an earlier version (a database
    created 0644), become the owner's alone; what the umask creates from now on already is."""
    for path in (folder, *folder.iterdir()):
        try:
            mode = path.stat().st_mode
            if mode & 0o077 and (path == folder or path.is_file()):
                path.chmod(mode & 0o700)
        except OSError:  # not ours to change (a shared folder set up by an administrator), or gone meanwhile
            continue


VAR_DIR = Path(os.environ.get("MUSTER_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)
make_private(VAR_DIR)

DEBUG = envbool("DEBUG", "false")


def persisted_secret_key(path: Path) -> str:
    """A random key kept in var/ so a machine with nothing configured still signs with a real secret."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or persisted_secret_key(VAR_DIR / "secret_key")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "config.apps.MusterAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "auditlog",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "units",
    "callouts",
    "reports",
    "fieldapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header on every response (config/csp.py).
    "config.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Ends a session whose login may no longer act, or that is too old or idle (units/sessions.py).
    "units.sessions.SessionRulesMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # auditlog's middleware with the client's address from units.addresses (auditlog's own trusts any
    # X-Forwarded-For).
    "units.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: turns a lockout into its response (config.api.lockout_response).
    "axes.middleware.AxesMiddleware",
]

# Axes first: it refuses a locked account before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's password backend, for logins that may act (units.access.may_act) only.
    "units.authentication.ActiveAccountBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'muster.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", "0"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A frozen process (a stopped worker, a debugger) inside a transaction would hold its row locks, and with them
    # every answer to that callout, for as long as it stays frozen: PostgreSQL ends such a session instead.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c idle_in_transaction_session_timeout={envint('DATABASE_IDLE_TRANSACTION_SECONDS', '15') * 1000}"
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, worker and beat share one SQLite file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# CJIS 5.5.5: lock the session after 30 minutes without activity.
SESSION_COOKIE_AGE = envint("SESSION_IDLE_SECONDS", "1800")
# Not every request: units.sessions saves a session on activity only, so the live page's poll keeps none alive.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "false")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "en-gb"
# en-GB's formats with times on the 24-hour clock (config/formats/en_GB/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "static"))

OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Muster")

# The REST API under /api/v1/ (config/api.py): device tokens only, JSON only, one error format.
REST_FRAMEWORK = {
    # No session authentication: a browser session would need CSRF and OTP checks the phones never need.
    "DEFAULT_AUTHENTICATION_CLASSES": ["units.authentication.DeviceTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["config.api.DeviceRateThrottle", "config.api.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "device": envrate("API_THROTTLE_DEVICE", "600/min"),
        "anon": envrate("API_THROTTLE_ANON", "60/min"),
        "enrol": envrate("API_THROTTLE_ENROL", "10/hour"),
    },
    # No NUM_PROXIES: the throttles take the client's address from units.addresses (TRUSTED_PROXY_COUNT).
}
# A device token unused for this many days stops working; the phone has to enrol again.
DEVICE_IDLE_DAYS = envint("DEVICE_IDLE_DAYS", "30")
# The field app (GET /api/v1/app-config/ tells it these): minutes idle before it asks for the PIN again, and wrong
# PINs after which it wipes what it keeps and signs its device out.
APP_LOCK_MINUTES = envint("APP_LOCK_MINUTES", "30", minimum=1)
APP_PIN_ATTEMPTS = envint("APP_PIN_ATTEMPTS", "5", minimum=1)

SPECTACULAR_SETTINGS = {
    "TITLE": "Muster API",
    "DESCRIPTION": (
        "Callouts, responses and schedules for phones and dispatch systems. Enrol a device with "
        "`POST /api/v1/auth/devices/`, then send `Authorization: Token <token>`. Every 4xx answer has the body "
        '`{"error": {"code": ..., "message": ..., "fields": {...}}}`.'
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # An answer to a callout, wherever a field named response takes one (the app's, the push's); "none" is only
    # ever recorded, in MyAnswerResponseEnum.
    "ENUM_NAME_OVERRIDES": {"AnswerEnum": ["accept", "decline"]},
    # Swagger UI's scripts come from the sidecar package through static files: /api/docs/ needs no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.add_error_responses",
    ],
}

# Failed logins (CJIS 5.5.3), in the admin and at device enrolment: LOGIN_FAILURE_LIMIT failures, each within
# LOGIN_FAILURE_WINDOW of the one before, lock the username until an administrator unlocks it (Axes ›
# Access attempts › delete, or `manage.py axes_reset_username NAME`). Locked by username, not address, so a
# guesser cannot carry on from another address; units.authentication.LockoutHandler keeps the window.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
LOGIN_FAILURE_WINDOW = timedelta(minutes=envint("LOGIN_FAILURE_WINDOW_MINUTES", "15"))
AXES_COOLOFF_TIME = None
AXES_LOCKOUT_PARAMETERS = ["username"]
# Axes warns that without the address a guesser can rotate user agents; the count here is per username over
# every address and agent, so rotating changes nothing. Guessing many usernames from one address is what the
# per-address enrolment throttle (API_THROTTLE_ENROL) limits; locking addresses would lock whole stations
# behind one NAT address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_HANDLER = "units.authentication.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "config.api.lockout_response"
# Successful logins are already in the audit log with their address (units/auth_events.py).
AXES_DISABLE_ACCESS_LOG = True
# Axes takes the client's address the way the throttles and the audit log do (TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "units.addresses.client_address"

REDIS_URL = os.environ.get("REDIS_URL", "")
# API throttles and the like count in the cache: it must be shared by every process once there are several.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # Message files in var/broker/, written whole before a worker can see them (config/broker.py).
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        # Where a worker moves a message it takes, to read it (a rename, so two workers never take one).
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # A worker looks for messages this often when its queues are empty: kombu's 1 s default would add up
        # to a second to every task, escalations included. Listing a folder ten times a second costs nothing.
        "polling_interval": 0.1,
    }
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", "false")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# Callout work has its own queue so that a slow export or report never delays an escalation.
CELERY_TASK_ROUTES = {"callouts.tasks.*": {"queue": "callouts"}}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Proves to the admin that beat and a worker are alive; timers depend on both.
    "heartbeat": {"task": "callouts.tasks.heartbeat", "schedule": 15.0},
    # Escalation deadlines and due deliveries are rows; this claims them every second. No Celery `expires`: it
    # is an instant on beat's clock checked against the worker's, so a worker whose clock ran ahead dropped every
    # sweep. A scheduled sweep instead skips when another started just before it, by the database's clock.
    "sweep": {"task": "callouts.tasks.sweep", "schedule": 1.0, "kwargs": {"scheduled": True}},
    # Overdue escalations, sends stuck with no outcome, stopped timers and skewed clocks: logged and bannered.
    "watchdog": {"task": "callouts.tasks.watchdog", "schedule": 60.0},
    # Submitted reports not yet circulated or referred, due referral deliveries and overdue reviews.
    "reports-sweep": {"task": "reports.tasks.sweep", "schedule": 2.0, "kwargs": {"scheduled": True}},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Beat's and the worker's line for each run of a scheduled task go to DEBUG (config/log_filters.py).
    "filters": {"routine_tasks": {"()": "config.log_filters.RoutineTaskLines",
                                  "tasks": sorted({entry["task"] for entry in CELERY_BEAT_SCHEDULE.values()})}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # One line per task run would bury everything else: the sweep runs every second.
    "loggers": {
        "celery.app.trace": {"level": "WARNING"},
        "celery.beat": {"filters": ["routine_tasks"]},
        "celery.worker.strategy": {"filters": ["routine_tasks"]},
        "twilio.http_client": {"level": "WARNING"},
    },
}

# Security: client addresses, sessions, HTTPS and the Content-Security-Policy (README: Configuration).
# Reverse proxies in front of Muster whose X-Forwarded-For is trusted for the client's address (units.addresses):
# audit entries, the lockout, the API throttles. 0: the client is the connection's address, whatever the header.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", "0")
# A back office session ends this long after its login whatever the activity (units/sessions.py), and an API
# device token this many days after its enrolment however often it is used.
SESSION_MAX_AGE_SECONDS = envint("SESSION_MAX_AGE_SECONDS", str(12 * 3600))
DEVICE_MAX_AGE_DAYS = envint("DEVICE_MAX_AGE_DAYS", "180")
# HTTPS (docs/production.env is the production environment; `manage.py check --deploy` passes with it). Off by
# default so the demo runs on http://127.0.0.1. Behind a proxy that ends TLS, SECURE_PROXY_SSL_HEADER names the
# header it sets to "https" (and must strip from clients), or Django never sees the request as secure.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "false")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "false")
_proxy_ssl_header = envheader("SECURE_PROXY_SSL_HEADER", "")
SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None

# Days ahead the coverage-gap report and schedule preview look.
SCHEDULE_PREVIEW_DAYS = envint("SCHEDULE_PREVIEW_DAYS", "14")

# Every model is audited except bookkeeping that changes on its own.
AUDITLOG_INCLUDE_ALL_MODELS = True
AUDITLOG_EXCLUDE_TRACKING_MODELS = (
    "sessions",
    "contenttypes",
    "admin",
    "auditlog",
    "callouts.heartbeat",
    # The recording channel's outbox is itself the record of what was sent.
    "callouts.recordedmessage",
    # Failed logins and unlocks are explicit entries (units/auth_events.py, units.authentication.LockoutHandler).
    "axes",
)
AUDITLOG_MASK_TRACKING_FIELDS = ("password", "key", "token", "feed_token", "auth", "p256dh", "token_hash",
                                 "wipe_key_hash", "webhook_secret")
AUDITLOG_DISABLE_REMOTE_ADDR = False

# Callout delivery: channel classes, and how long a send may take before its outcome counts as unknown.
# MUSTER_PROVIDERS=live sends through Twilio, SMTP and Web Push; each *_CHANNEL variable still overrides one.
MUSTER_PROVIDERS = os.environ.get("MUSTER_PROVIDERS", "recording")
if MUSTER_PROVIDERS not in ("recording", "live"):
    raise ImproperlyConfigured(f"MUSTER_PROVIDERS must be recording or live, not {MUSTER_PROVIDERS!r}")
_LIVE = MUSTER_PROVIDERS == "live"
_RECORDING = "callouts.channels.recording.RecordingChannel"
MUSTER_CHANNELS = {
    "push": os.environ.get("PUSH_CHANNEL", "callouts.channels.push.WebPushChannel" if _LIVE else _RECORDING),
    "sms": os.environ.get("SMS_CHANNEL", "callouts.channels.sms.TwilioSMSChannel" if _LIVE else _RECORDING),
    "voice": os.environ.get("VOICE_CHANNEL", "callouts.channels.voice.TwilioVoiceChannel" if _LIVE else _RECORDING),
    "email": os.environ.get("EMAIL_CHANNEL", "callouts.channels.email.EmailChannel" if _LIVE else _RECORDING),
}
DELIVERY_SEND_TIMEOUT = envint("DELIVERY_SEND_TIMEOUT", "30")
# Timers follow the database's clock whatever a worker's says; a worker host further off than this is bannered.
MAX_CLOCK_SKEW_SECONDS = envint("MAX_CLOCK_SKEW_SECONDS", "2")
DELIVERY_LEASE = envint("DELIVERY_LEASE", "20")
# Deliveries claimed and handed to the providers together; a worker killed mid-batch leaves at most this many
# per pool process with an unknown outcome, and the providers are called this many at a time.
DELIVERY_SEND_BATCH = envint("DELIVERY_SEND_BATCH", "10")
DELIVERY_MAX_ATTEMPTS = envint("DELIVERY_MAX_ATTEMPTS", "5")
DELIVERY_RETRY_BASE = envint("DELIVERY_RETRY_BASE", "2")
RESPONSE_LINK_MAX_AGE = envint("RESPONSE_LINK_MAX_AGE", str(24 * 3600))

# Field reports: uploaded attachments, and referrals to partner agencies.
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Attachments are personal data: readable by Muster's user and its group (a backup or scanning job), by nobody else.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# Static files are public, and served by whatever web server fronts Muster: collectstatic leaves them readable.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
                    "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755}},
}
REPORT_ATTACHMENT_MAX_BYTES = envint("REPORT_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024))
REPORT_ATTACHMENT_TYPES = envlist(
    "REPORT_ATTACHMENT_TYPES",
    "image/jpeg,image/png,image/heic,image/webp,application/pdf,video/mp4,audio/mpeg,audio/mp4,text/plain",
)
REFERRAL_FROM_EMAIL = os.environ.get("REFERRAL_FROM_EMAIL", "referrals@muster.invalid")
REFERRAL_MAX_ATTEMPTS = envint("REFERRAL_MAX_ATTEMPTS", "8")
REFERRAL_RETRY_BASE = envint("REFERRAL_RETRY_BASE", "15")
REFERRAL_TIMEOUT = envint("REFERRAL_TIMEOUT", "10")
REFERRAL_ACK_LINK_MAX_AGE = envint("REFERRAL_ACK_LINK_MAX_AGE", str(7 * 24 * 3600))

# Providers behind the live channels. A hung provider must not hold a worker: each call has a short timeout,
# after which the send counts as a temporary failure and is retried.
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
# Tests and staging point this at a local double of the Twilio REST API.
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")
TWILIO_TIMEOUT = envint("TWILIO_TIMEOUT", "10")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "false")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", "false")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "10")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Muster <muster@localhost>")
# Web Push's key pair (config/vapid.py): the private key signs every push, the public key is what the app
# subscribes with (GET /api/v1/app-config/); a start with two halves that do not belong together is refused.
VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "")
VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "").strip()
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "")
WEBPUSH_TIMEOUT = envint("WEBPUSH_TIMEOUT", "10")
# A push still queued at the push service after this long is dropped: by then SMS and voice have taken over.
WEBPUSH_TTL = envint("WEBPUSH_TTL", "900")
# Where requests to addresses someone typed may go (config/outbound.py checks them when saved and when sent).
# Push endpoints only to these push services ("*.example.com" is any host under example.com); an entry that is
# an IP address or localhost may be private, for a push service on your own network or a test double.
PUSH_SERVICE_HOSTS = envlist(
    "PUSH_SERVICE_HOSTS", "fcm.googleapis.com,*.push.services.mozilla.com,web.push.apple.com,*.notify.windows.com")
# Partner webhooks go to any public address; a host named here may also resolve to a private or loopback one.
WEBHOOK_ALLOWED_HOSTS = envlist("WEBHOOK_ALLOWED_HOSTS", "")
