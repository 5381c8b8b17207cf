"""Settings for Outreach, read from the environment (see .env.example for every variable).

Defaults run the whole system on one machine with no servers: SQLite under var/ and Celery on
kombu's filesystem transport. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

import re
from datetime import timedelta
from pathlib import Path

from csp.constants import NONCE
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
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105  # nosec B105

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
    # The form templates of Django itself, for the NHS.UK form renderer (FORM_RENDERER).
    "django.forms",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    # --- Authentication and hardening: lockout, two-factor devices, CSP nonces ---
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    # --- end authentication and hardening ---
    "clinics",
    "outreach",
    "referrals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # --- Hardening: Content-Security-Policy (with a nonce per request) and Permissions-Policy
    # on every response, static files excepted (WhiteNoise answers those above).
    "csp.middleware.CSPMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # --- Authentication: which OTP device verified this session, then no page or API call
    # for a user who needs two-factor until they have used it (config/middleware.py).
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the signed-in user on every history row written during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # --- Authentication: django-axes last, so its lockout answer replaces any view's.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# Widgets render from the project's templates too: the NHS.UK field templates (config/forms.py).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

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
                "config.navigation.navigation",
            ],
            "libraries": {"nhsuk": "config.templatetags.nhsuk"},
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
# The statements every booking runs (outreach/booking_sql.py) are prepared once per database
# connection on PostgreSQL, so the server plans them once instead of on every request. Turn
# this off behind a connection pooler in transaction mode that cannot keep prepared statements
# (PgBouncer before 1.21, or without max_prepared_statements).
OUTREACH_PREPARED_STATEMENTS = env.bool("OUTREACH_PREPARED_STATEMENTS", default=True)
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

# --- Authentication (docs/security.md) ------------------------------------------------------
# Staff passwords: Django's four validators, at least 12 characters.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes must come first: it refuses a locked-out username before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "clinics.auth.StaffModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login lockout (django-axes). Attempts are rows in the database, so every gunicorn process and
# every machine sees the same count; by username only, so a nurse on a shared NHS network is not
# locked out by someone else's typing.
AXES_FAILURE_LIMIT = env.int("OUTREACH_LOGIN_FAILURE_LIMIT", default=5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(
    minutes=env.int("OUTREACH_LOGIN_COOLOFF_MINUTES", default=15, minimum=1, maximum=24 * 60)
)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_CALLABLE = "clinics.lockout.lockout_response"
# Axes logs the username, address and browser of every failure: log a pseudonym instead.
AXES_CLIENT_STR_CALLABLE = "clinics.lockout.client_str"
AXES_SENSITIVE_PARAMETERS = ["username", "password", "ip_address", "user_agent"]
# axes.W006 asks to lock out by address too. Staff share NHS and council networks behind one
# address, so five typos by one person would lock out a whole building; the per-address limit
# is the `login` throttle instead (config/accounts.py).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Two-factor (django-otp, TOTP with backup codes): required of superusers and these roles.
_STAFF_ROLES = {"nurse", "hca", "outreach_worker", "coordinator", "admin", "analyst", "auditor"}
OUTREACH_TWO_FACTOR_ROLES = env.list(
    "OUTREACH_TWO_FACTOR_ROLES", default=["coordinator", "admin", "auditor"]
)
if set(OUTREACH_TWO_FACTOR_ROLES) - _STAFF_ROLES:
    raise ImproperlyConfigured(
        f"OUTREACH_TWO_FACTOR_ROLES={','.join(OUTREACH_TWO_FACTOR_ROLES)!r}: each must be one "
        f"of {', '.join(sorted(_STAFF_ROLES))}."
    )
OTP_TOTP_ISSUER = "Outreach"
# Each wrong code doubles the wait before the next try (1 s, 2 s, 4 s...).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
OUTREACH_BACKUP_CODE_COUNT = 10

# API tokens: how long a new one lasts unless asked otherwise, and the longest it may last.
OUTREACH_API_TOKEN_DAYS = env.int("OUTREACH_API_TOKEN_DAYS", default=30, minimum=1, maximum=365)
OUTREACH_API_TOKEN_MAX_DAYS = env.int(
    "OUTREACH_API_TOKEN_MAX_DAYS", default=90, minimum=1, maximum=365
)
if OUTREACH_API_TOKEN_DAYS > OUTREACH_API_TOKEN_MAX_DAYS:
    raise ImproperlyConfigured(
        f"OUTREACH_API_TOKEN_DAYS={OUTREACH_API_TOKEN_DAYS} is longer than "
        f"OUTREACH_API_TOKEN_MAX_DAYS={OUTREACH_API_TOKEN_MAX_DAYS}."
    )
# --- end authentication ---

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# The NHS.UK frontend and htmx, copied out of node_modules/ by `make frontend`
# (scripts/frontend.sh) and served as static/vendor/nhsuk-frontend/... and static/vendor/htmx/...
STATICFILES_DIRS = [BASE_DIR / "config" / "static", ("vendor", VAR_DIR / "vendor")]
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

# --- Security (hardening; docs/security.md) -------------------------------------------------
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
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The client address used by throttles and the lockout log: with a proxy in front, the last
# address it appended to X-Forwarded-For; without one the header is the client's to forge.
TRUSTED_PROXY_COUNT = 1 if BEHIND_TLS_PROXY else 0
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if BEHIND_TLS_PROXY else ["REMOTE_ADDR"]
)

# Content-Security-Policy (django-csp 4). Scripts only from this site or with the nonce of the
# response (request.csp_nonce); no inline script or style, no framing, forms post only here.
# The API documentation page widens it for the Swagger UI files (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Browser features no page of Outreach uses, switched off (config/middleware.py).
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}
# --- end security ---


# --- REST API -------------------------------------------------------------------------------
def _rate(name: str, default: str) -> str:
    """A DRF throttle rate such as 10/minute, checked now rather than on the first request."""
    raw = env.str(name, default)
    if not re.fullmatch(r"[1-9]\d*/(second|minute|hour|day)", raw):
        raise ImproperlyConfigured(
            f"{name}={raw!r}: give a count per second, minute, hour or day, e.g. 10/minute."
        )
    return raw


REST_FRAMEWORK = {
    # A bearer token first: its 401 (with WWW-Authenticate) is the answer to a missing login.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "clinics.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # --- Hardening: throttles, counted in the shared cache (Redis in production) ---
    "DEFAULT_THROTTLE_RATES": {
        # Sign-in attempts per client address (the web form and the admin's).
        "login": _rate("OUTREACH_LOGIN_RATE", "20/minute"),
        # New API tokens per user.
        "token-create": _rate("OUTREACH_TOKEN_CREATE_RATE", "10/hour"),
        # Resending a failed message (outreach.messaging.api.ResendThrottle).
        "message-resend": "10/minute",
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
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
    # Swagger UI from drf-spectacular-sidecar's static files, pinned by the lock file: the docs
    # page loads nothing from another site, so it needs no exception to the CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # GOV.UK Notify's callbacks bring their own bearer token (outreach/messaging/api.py).
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "notifyCallbackToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "GOV.UK Notify's callbacks: `Bearer` and NOTIFY_CALLBACK_TOKEN.",
            }
        }
    },
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
# Log lines carry ids, never names, phone numbers or message bodies. The filter is a last line
# of defence for what other code logs: it drops query strings and blanks email addresses, phone
# numbers and NHS numbers (config/logging.py). Gunicorn's access log is set in gunicorn.conf.py.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "config.logging.PersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO").upper()},
    # Django's request loggers also go to the root handler (and its filter) only.
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
    },
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

# A running background job whose heartbeat is older than this is taken over by another worker
# (its own worker died); longer than the slowest single step of any job.
OUTREACH_JOB_LEASE_SECONDS = env.int(
    "OUTREACH_JOB_LEASE_SECONDS", default=900, minimum=60, maximum=3000
)
# Days a finished background job and the file it made are kept before a nightly job deletes them.
OUTREACH_JOB_KEEP_DAYS = env.int("OUTREACH_JOB_KEEP_DAYS", default=7, minimum=1, maximum=365)

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

# --- Access control and data protection (docs/access-control.md) ---------------------------
# Proxies in front of the app that append to X-Forwarded-For: the access log takes the client
# address that many entries from the right. 0 trusts no header and logs REMOTE_ADDR.
OUTREACH_TRUSTED_PROXY_COUNT = env.int(
    "OUTREACH_TRUSTED_PROXY_COUNT", default=0, minimum=0, maximum=5
)
# Years after a patient's last contact before the nightly job anonymises their record.
OUTREACH_RETENTION_YEARS = env.int("OUTREACH_RETENTION_YEARS", default=8, minimum=1, maximum=100)
# Patients anonymised per transaction by the retention job.
OUTREACH_RETENTION_BATCH_SIZE = env.int(
    "OUTREACH_RETENTION_BATCH_SIZE", default=200, minimum=1, maximum=10_000
)
