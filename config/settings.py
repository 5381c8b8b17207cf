"""Settings for Outreach, read from the environment (see .env.example for every variable).

Defaults run the whole system on one machine with no servers: SQLite under var/ and Celery on
kombu's filesystem transport. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import Env, read_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = Env()
if env.bool("OUTREACH_READ_DOTENV", default=True):
    read_dotenv(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment or in .env "
            "(make run writes one for local use); only DEBUG=true runs without it."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "simple_history",
    "clinics",
    "outreach",
    "referrals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the signed-in user on every history row written during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
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

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.database("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'outreach.sqlite3'}")
}
_conn_max_age = env.int("CONN_MAX_AGE", default=60, minimum=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: WAL lets readers carry on while one
    # writes, and IMMEDIATE transactions take the write lock up front instead of failing with
    # "database is locked" when a read transaction later tries to write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = _conn_max_age
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ----------------------------------------------------------------
REDIS_URL = env.broker_url("REDIS_URL", default="") if env.str("REDIS_URL") else ""
CELERY_BROKER_URL = env.broker_url("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # An embedded broker: messages are files under var/celery/, so `make run` needs no server.
    _broker_dir = VAR_DIR / "celery" / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task that is not acknowledged within this window is delivered again. Every retry
    # backoff stays well below it, and no task is ever scheduled hours ahead with eta.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "Europe/London"
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "outreach",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["clinics.auth.StaffModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]
# A file missing from the collectstatic manifest is served under its plain name instead of
# turning every page that links it into a server error.
WHITENOISE_MANIFEST_STRICT = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "clinics.api.filters.StrictFilterBackend",
        "clinics.api.filters.StrictOrderingFilter",
    ],
    # JSON only: one way to send a request, and no form encoding that cannot say "null".
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "clinics.api.pagination.CataloguePagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Outreach API",
    "DESCRIPTION": "Outreach clinics, bookings, reminders and referrals.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Every error answer carries the one error shape; see config.api.document_errors.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.document_errors",
    ],
    # Several apps have a `channel`, `outcome` or `status` choice set: name each one, or the
    # schema falls back to hashed enum names that change whenever another set is added.
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "clinics.models.ContactPointChannel",
        "OutcomeEnum": "outreach.models.VisitOutcomeOutcome",
        "ReferralStatusEnum": "referrals.models.ReferralStatus",
        "ReferralChaseChannelEnum": "referrals.models.ReferralChaseChannel",
        "ReferralChaseOutcomeEnum": "referrals.models.ReferralChaseOutcome",
    },
}

# --- Logging --------------------------------------------------------------------------------
# Log lines carry ids, never names, phone numbers or message bodies.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO").upper()},
}

# --- History ------------------------------------------------------------------------------
# Reasons can quote what a coordinator typed (a cancellation reason): no length limit.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- Outreach -------------------------------------------------------------------------------
# How many weeks ahead a session series keeps its sessions created.
OUTREACH_SERIES_HORIZON_WEEKS = env.int(
    "OUTREACH_SERIES_HORIZON_WEEKS", default=8, minimum=1, maximum=52
)
# The display time zone for clinics; every stored datetime is aware and in UTC.
OUTREACH_TIME_ZONE = "Europe/London"
# Minutes after a session ends before bookings nobody checked in are marked as not attended.
OUTREACH_AUTO_NO_SHOW_MINUTES = env.int(
    "OUTREACH_AUTO_NO_SHOW_MINUTES", default=60, minimum=0, maximum=7 * 24 * 60
)
# Failed chases (no answer, a message left, still awaiting) before a referral is lost to follow-up.
OUTREACH_REFERRAL_MAX_FAILED_CHASES = env.int(
    "OUTREACH_REFERRAL_MAX_FAILED_CHASES", default=3, minimum=1, maximum=20
)
# Days after acceptance before an unbooked referral appears on the coordinators' worklist.
OUTREACH_REFERRAL_BOOKING_DAYS = env.int(
    "OUTREACH_REFERRAL_BOOKING_DAYS", default=14, minimum=1, maximum=365
)

# --- Messaging (the outbox, reminders and GOV.UK Notify) -----------------------------------
# One seam per channel: a dotted path to a gateway class (console, file, fake or notify).
_GATEWAYS = "outreach.messaging.gateways"
OUTREACH_SMS_GATEWAY = env.str("OUTREACH_SMS_GATEWAY", f"{_GATEWAYS}.console.ConsoleGateway")
OUTREACH_EMAIL_GATEWAY = env.str("OUTREACH_EMAIL_GATEWAY", f"{_GATEWAYS}.console.ConsoleGateway")
# Where the file gateway appends one JSON line per message (development only).
OUTREACH_MESSAGE_FILE = env.str("OUTREACH_MESSAGE_FILE", str(VAR_DIR / "messages.jsonl"))
NOTIFY_API_KEY = env.str("NOTIFY_API_KEY")
NOTIFY_BASE_URL = env.str("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
# Notify sends this as "Authorization: Bearer ..." on delivery receipts and inbound texts.
NOTIFY_CALLBACK_TOKEN = env.str("NOTIFY_CALLBACK_TOKEN")
# Generic Notify templates whose content is ((body)) (and ((subject)) for email).
NOTIFY_SMS_TEMPLATE_ID = env.str("NOTIFY_SMS_TEMPLATE_ID")
NOTIFY_EMAIL_TEMPLATE_ID = env.str("NOTIFY_EMAIL_TEMPLATE_ID")
# A neutral text sender (no clinic name) used for sensitive services; empty: the default sender.
NOTIFY_DISCREET_SMS_SENDER_ID = env.str("NOTIFY_DISCREET_SMS_SENDER_ID")
NOTIFY_TIMEOUT_SECONDS = env.int("NOTIFY_TIMEOUT_SECONDS", default=10, minimum=1, maximum=60)


def _reminder_offsets(raw: str) -> list[int]:
    try:
        hours = sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True)
    except ValueError:
        raise ImproperlyConfigured(
            f"OUTREACH_REMINDER_OFFSETS={raw!r}: give whole hours separated by commas, e.g. 48,2."
        ) from None
    if any(not 1 <= hour <= 24 * 28 for hour in hours):
        raise ImproperlyConfigured(f"OUTREACH_REMINDER_OFFSETS={raw!r}: each must be 1 to 672.")
    return hours


def _quiet_hours(raw: str) -> tuple[str, str] | None:
    if raw.lower() in {"", "none", "off"}:
        return None
    start, sep, end = raw.partition("-")
    if not sep or not all(
        re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", t.strip()) for t in (start, end)
    ):
        raise ImproperlyConfigured(
            f"OUTREACH_QUIET_HOURS={raw!r}: give HH:MM-HH:MM (London time), e.g. 21:00-08:00."
        )
    return start.strip(), end.strip()


# Hours before an appointment that reminders go; a service type can override them.
OUTREACH_REMINDER_OFFSETS = _reminder_offsets(env.str("OUTREACH_REMINDER_OFFSETS", "48,2"))
# London wall-clock hours when no text is sent; a text due then waits for the end.
OUTREACH_QUIET_HOURS = _quiet_hours(env.str("OUTREACH_QUIET_HOURS", "21:00-08:00"))
# Messages a patient may be sent per London day; the rest are suppressed.
OUTREACH_DAILY_MESSAGE_CAP = env.int("OUTREACH_DAILY_MESSAGE_CAP", default=3, minimum=1, maximum=50)
# Client-side send limit; GOV.UK Notify refuses more than 3,000 a minute.
OUTREACH_NOTIFY_RATE_PER_MINUTE = env.int(
    "OUTREACH_NOTIFY_RATE_PER_MINUTE", default=3000, minimum=1, maximum=1_000_000
)
# Attempts before a message that keeps failing temporarily is marked failed.
OUTREACH_MESSAGE_MAX_ATTEMPTS = env.int(
    "OUTREACH_MESSAGE_MAX_ATTEMPTS", default=6, minimum=1, maximum=20
)
# A row left in "sending" this long (its worker died) is looked up at Notify and sent again.
OUTREACH_SENDING_LEASE_SECONDS = env.int(
    "OUTREACH_SENDING_LEASE_SECONDS", default=300, minimum=1, maximum=3000
)
