"""The one settings module. Every value comes from the environment (or `.env`); see
`.env.example` and the configuration table in README.md."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # real environment variables win over the file

DEBUG = env.bool("DJANGO_DEBUG", default=False)

INSECURE_KEY_PREFIX = "django-insecure"
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY", default=f"{INSECURE_KEY_PREFIX}-dev-only-not-for-production"
)


def secret_key_is_insecure(key: str) -> bool:
    """The same test as Django's security.W009: short, low-entropy or a generated dev key."""
    return key.startswith(INSECURE_KEY_PREFIX) or len(key) < 50 or len(set(key)) < 5


if not DEBUG and secret_key_is_insecure(SECRET_KEY):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY tidak aman: dengan DJANGO_DEBUG=0 kunci harus acak, minimal 50 karakter "
        "dan bukan kunci pengembangan (django-insecure-…). Buat dengan: "
        "python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "dinsos.apps.AuditlogConfig",  # django-auditlog, named in Indonesian
    "axes",
    "csp",
    "django_htmx",
    "dinsos",
    "pmks",
    "psks",
    "jamsosratu",
    "incentives",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dinsos.audit.AuditMiddleware",
    "dinsos.middleware.ResponseHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "dinsos.middleware.NotFoundPageMiddleware",  # the Indonesian 404 page under DEBUG too
    "dinsos.middleware.LockBusyMiddleware",  # 503 "coba lagi" when rows are held too long
    "dinsos.middleware.UniqueConflictMiddleware",  # 409 when a unique index refuses late
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the Indonesian page
]

ROOT_URLCONF = "dinsos.urls"
WSGI_APPLICATION = "dinsos.wsgi.application"
AUTH_USER_MODEL = "dinsos.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
                "django.template.context_processors.i18n",
                "dinsos.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the web server, the worker and beat share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
#: seconds a web request may wait for rows another process holds (an import, a payout run)
#: before it is answered 503 "coba lagi" (dinsos.locks; PostgreSQL; 0: wait as long as needed)
WEB_LOCK_TIMEOUT = env.float("WEB_LOCK_TIMEOUT", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "dinsos.cache.PooledRedisCache"  # one client, not one a call

# --- Login lockout (django-axes) on every form that checks a password (/masuk/, /admin/) ------
# A username is locked after AXES_FAILURE_LIMIT wrong passwords from one address, for
# AXES_COOLOFF_MINUTES; other users (and that user from elsewhere) are not affected. An Admin
# unlocks from the user list (action "Buka kunci login") or with `manage.py axes_reset_username`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "dinsos.views.login_locked_out"
AXES_ENABLE_ADMIN = False  # unlocking is an action on the user list
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"])

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language, time ------------------------------------------------------------------------
LANGUAGE_CODE = "id"
# Indonesian only, whatever the browser asks for: no LocaleMiddleware, no language switch.
LANGUAGES = [("id", _("Bahasa Indonesia"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Day-first date inputs and "30 November 2026" dates (dinsos/formats/id/formats.py).
FORMAT_MODULE_PATH = ["dinsos.formats"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Served at the site root: /favicon.ico for pages that name no icon (API docs, browsable API).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=VAR_DIR / "media")
# Import uploads are refused above these limits before any work starts (dinsos/importing.py).
IMPORT_MAX_UPLOAD_MB = env.float("IMPORT_MAX_UPLOAD_MB", default=20)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
IMPORT_MAX_XLSX_UNCOMPRESSED_MB = env.float("IMPORT_MAX_XLSX_UNCOMPRESSED_MB", default=200)
IMPORT_MAX_XLSX_CELLS = env.int("IMPORT_MAX_XLSX_CELLS", default=3_000_000)
# The import commands (manage.py import_pmks, run on the server) read a province's whole file.
#: starts of one batch (the first and the broker's deliveries after a worker stopped mid-run,
#: e.g. killed by CELERY_TASK_TIME_LIMIT); a delivery after that fails it (dinsos.importing)
IMPORT_MAX_ATTEMPTS = env.int("IMPORT_MAX_ATTEMPTS", default=3)
IMPORT_COMMAND_MAX_UPLOAD_MB = env.float("IMPORT_COMMAND_MAX_UPLOAD_MB", default=1024)
IMPORT_COMMAND_MAX_ROWS = env.int("IMPORT_COMMAND_MAX_ROWS", default=3_000_000)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security (secure by default when DEBUG is off) ----------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# a staff session ends after one working day (Django's default is two weeks), so a browser
# left signed in on a shared office computer does not keep personal data open for days
SESSION_COOKIE_AGE = env.int("SESSION_HOURS", default=10) * 3600
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from this site or with the request's
# nonce ({{ request.csp_nonce }}); styles from this site, inline allowed (the browsable API
# and Swagger UI use style attributes; styles cannot run code); no plugins, no framing, forms
# post only here. Admin, Swagger UI (sidecar files, script in a separate request) and the
# staff pages need nothing more.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Email ---------------------------------------------------------------------------------
# an EMAIL_URL left empty in .env (uncommented without a value) is the default, not a crash
EMAIL_CONFIG = env.email_url_config(env.str("EMAIL_URL", default="") or "filemail:///var/mail")
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG.get("EMAIL_FILE_PATH"):  # filemail:///var/mail: relative to the project
    EMAIL_FILE_PATH = str(BASE_DIR / EMAIL_CONFIG["EMAIL_FILE_PATH"].lstrip("/"))
#: seconds an SMTP server may take to answer: the finance e-mail is sent while its run is
#: locked, so a stalled server must not hold the run (and the worker) until the time limit
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL",
    default="Dinas Sosial Provinsi Banten <noreply@dinsos.bantenprov.go.id>",
)
FINANCE_REPORT_EMAILS = env.list("FINANCE_REPORT_EMAILS", default=[])
#: The address of the site as users reach it, for links in e-mails (no request there).
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")
# The Daftar Nominatif (incentives/reports.py): paper (A4 or F4, landscape), budget lines
NOMINATIF_PAPER = env.str("NOMINATIF_PAPER", default="A4")
NOMINATIF_PROGRAM = env.str("NOMINATIF_PROGRAM",
                            default="Program Perlindungan dan Jaminan Sosial")
NOMINATIF_KODE_REKENING = env.str("NOMINATIF_KODE_REKENING", default="5.1.05.05.01.0001")
NOMINATIF_NUMBER_PREFIX = env.str("NOMINATIF_NUMBER_PREFIX", default="900")

# --- Demo data and `make run` --------------------------------------------------------------
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="")
WEB_PORT = env.int("WEB_PORT", default=8000)  # the Procfile's runserver port; seed_demo prints it

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "dinsos.api.authentication.TokenAuthentication",  # knox, one query per request
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dinsos.api.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "dinsos.api.filters.FilterBackend",  # django-filter's, skipped when no filter is asked
        "dinsos.api.filters.KnownParametersFilter",
        "dinsos.api.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "dinsos.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [  # budgets and RateLimit-* headers: dinsos/api/throttling.py
        "dinsos.api.throttling.AnonRateThrottle",
        "dinsos.api.throttling.UserRateThrottle",
        "dinsos.api.throttling.TokenRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="6000/hour"),
        "token": env.str("API_THROTTLE_TOKEN", default="6000/hour"),
    },
    "DEFAULT_SCHEMA_CLASS": "dinsos.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "dinsos.api.errors.exception_handler",
    "DEFAULT_METADATA_CLASS": "dinsos.api.metadata.Metadata",
    "DEFAULT_VERSIONING_CLASS": None,
}
REST_KNOX = {
    "TOKEN_TTL": None,  # every token is issued with an explicit expiry (issue_token --days N)
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=90)
# days a stored Idempotency-Key answer is kept (it may hold personal data); a retry after that
# runs as a new request
IDEMPOTENCY_KEY_DAYS = env.int("IDEMPOTENCY_KEY_DAYS", default=7)
#: days an uploaded import file (every row's NIK, KK, account…) is kept after its upload;
#: a daily task removes older ones, the batch keeps its totals and rejected rows
#: (``dinsos.importing.import_files_purge``); 0 keeps them
IMPORT_FILE_DAYS = env.int("IMPORT_FILE_DAYS", default=30)
SPECTACULAR_SETTINGS = {
    "TITLE": "API Dinas Sosial Provinsi Banten",
    "DESCRIPTION": (
        "API untuk Dinas Sosial kabupaten/kota: wilayah, PMKS, PSKS, Jamsosratu, insentif."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "pmks.choices.CaseStatus",
        "DuplicateStatusEnum": "pmks.choices.DuplicateStatus",
        "ImportStatusEnum": "dinsos.models.ImportBatch.Status",
        "WorkerStatusEnum": "psks.choices.WorkerStatus",
        "ReportStatusEnum": "psks.choices.ReportStatus",
        "InstitutionStatusEnum": "psks.choices.InstitutionStatus",
        "EnrolmentStatusEnum": "jamsosratu.choices.EnrolmentStatus",
        "PaymentStatusEnum": "jamsosratu.choices.PaymentStatus",
        "CommitmentStatusEnum": "jamsosratu.choices.CommitmentStatus",
        "JobKindEnum": "jamsosratu.choices.JobKind",
        "JobStatusEnum": "jamsosratu.choices.JobStatus",
        "BankLineOutcomeEnum": "jamsosratu.choices.BankLineOutcome",
        "OutcomeEnum": "jamsosratu.choices.Outcome",
        "RunStatusEnum": "incentives.choices.RunStatus",
        "LineStatusEnum": "incentives.choices.LineStatus",
        "BatchOutcomeEnum": "dinsos.api.sync.BatchOutcome",
        "ChangeEnum": "dinsos.models.Change.Kind",
    },
}

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker: messages are files under var/broker, no Redis needed.
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
#: a worker told to stop (SIGTERM remapped to SIGQUIT in compose: REMAP_SIGTERM) lets running
#: tasks finish for this long, then cancels them and hands their messages back to the broker
#: (acks late): a task cut by a redeploy runs again at once, not after Redis' visibility
#: timeout (an hour). Below compose's stop_grace_period for the worker (60 s).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT",
                                                default=45.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- Audit (django-auditlog) ---------------------------------------------------------------
AUDITLOG_STORE_JSON_CHANGES = True
# One mask everywhere (object names, single saves, bulk imports): first 6 and last 2 digits.
AUDITLOG_MASK_CALLABLE = "dinsos.validators.mask_identity_number"
AUDITLOG_DISABLE_REMOTE_ADDR = False

# No whole NIK in the logs (UU 27/2022): a run of 15–16 digits is masked in every record of the
# loggers that write a request's path or query (a by-nik URL, a search ?q=) — on the logger, so
# every handler sees it masked — and in everything the console handler writes
# (dinsos.log_filters; gunicorn's access log: dinsos.gunicorn.MaskedLogger).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_identifiers": {"()": "dinsos.log_filters.MaskIdentifiers"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["mask_identifiers"]}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.request": {"filters": ["mask_identifiers"]},
        "django.security.csrf": {"filters": ["mask_identifiers"]},
        # runserver's request lines (its own handler in Django's defaults, not propagated)
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False,
                          "filters": ["mask_identifiers"]},
    },
}

# --- Sync API (changes feeds, batch upserts) -----------------------------------------------
SYNC_FEED_PAGE_SIZE = env.int("SYNC_FEED_PAGE_SIZE", default=500)
SYNC_FEED_MAX_PAGE_SIZE = env.int("SYNC_FEED_MAX_PAGE_SIZE", default=2000)
SYNC_BATCH_MAX_ROWS = env.int("SYNC_BATCH_MAX_ROWS", default=500)
# items of one list in a request body (ids of related rows, nested rows): DRF reads each id of
# a related field with a query of its own (dinsos.api.serializers.BoundedListMixin)
API_MAX_LIST_ITEMS = env.int("API_MAX_LIST_ITEMS", default=1000)
