"""Prescreen settings: one file, configured from the environment.

Development defaults are safe to run locally; set DEBUG=0 plus SECRET_KEY and ALLOWED_HOSTS in
production (``manage.py check --deploy`` is clean in that mode).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from eligibility.identifiers import DEFAULT_REFERENCE_HINT, DEFAULT_REFERENCE_PATTERN

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    # Before the admin: its TranslationAdmin and the translated fields of the question catalogue (trials/translation.py).
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "django_tasks_rq",
    "axes",
    "csp",
    "pgtrigger",
    # The access log, beneath every app: each may record to it, it imports none of them.
    "audit",
    # Apps by bounded context; each imports only those before it (tests/test_architecture.py).
    "trials",
    "ctgov",
    "curation",
    "screening",
    "referrals",
    "prescreen",  # the project's own commands (`manage.py worker`) and its health-check task
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the user's choice (a cookie set by the navbar's switcher), else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "prescreen.middleware.no_store_when_signed_in",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # After Messages and htmx (its message, its HX-Redirect), before any view: LoginRequiredMiddleware's check
    # runs later (process_view), so a session ended here is turned away like any anonymous request.
    "prescreen.sessions.idle_timeout",
    # Last, as django-axes asks: turns a locked-out login into the "locked out" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "prescreen.urls"
WSGI_APPLICATION = "prescreen.wsgi.application"

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
                "prescreen.roles.roles_context",
                "prescreen.sessions.session_timing",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache: in-process memory is right for `make run`; with several processes set REDIS_URL (e.g.
# redis://127.0.0.1:6379/0), which the rq task backend uses too. Nothing the app shows depends on it.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "prescreen",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work (imports, re-screening) goes through Django's Tasks API (django-tasks, the backport of
# Django 6's django.tasks). Embedded default: tasks stored in the database and run by `manage.py db_worker`
# (`make run` starts one). Scale-out: TASKS_BACKEND=rq with REDIS_URL, run by
# `manage.py worker` (which runs the rq worker with django-tasks-rq's job class) on as many machines as needed.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database")
TASK_QUEUES = ["default"]
if TASKS_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL (e.g. redis://127.0.0.1:6379/0).")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": TASK_QUEUES}}
elif TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
elif TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": TASK_QUEUES}}
else:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be database, rq or immediate, not {TASKS_BACKEND!r}.")
# django-rq's queues (used only by the rq backend); the same Redis as the cache.
RQ_QUEUES = {name: {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 3600} for name in TASK_QUEUES}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Uploads, each refused above its limit with a message saying so: a FHIR Bundle for pre-fill (one patient's record),
# and ClinicalTrials.gov records on the admin's import page (larger files: `manage.py import_ctgov`). A reverse proxy
# in front should also cap request bodies (e.g. nginx client_max_body_size) at the larger of the two.
FHIR_UPLOAD_MAX_MB = int(os.environ.get("FHIR_UPLOAD_MAX_MB", "5"))
IMPORT_UPLOAD_MAX_MB = int(os.environ.get("IMPORT_UPLOAD_MAX_MB", "64"))

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from one IP address,
# that pair is locked out for AXES_COOLOFF_MINUTES (on /login/ and /admin/login/). Username *and* IP, so that one
# address cannot lock every user out, nor one username be locked by someone else's address. Admins see and lift
# lockouts under Admin → Axes → Access attempts (delete the row), or `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "prescreen.security.locked_out"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False  # no banner on every manage.py command's stderr; lockouts are still logged (WARNING)
# Behind a reverse proxy, REMOTE_ADDR is the proxy's: set TRUSTED_PROXY_COUNT to the number of proxies that append
# to X-Forwarded-For, and the client's address is read from there (prescreen.security.client_ip).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "prescreen.security.client_ip"
# Wrong API tokens: after API_TOKEN_FAILURE_LIMIT from one IP address, that address gets 429 for the cool-off.
API_TOKEN_FAILURE_LIMIT = int(os.environ.get("API_TOKEN_FAILURE_LIMIT", "10"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# English and Simplified Chinese (the seed trials recruit in China). To add a language, see README "Languages".
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The question catalogue's texts have a column per language (trials/translation.py: label_en_gb, label_zh_hans…);
# an empty Chinese text falls back to the English one.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en-gb"
MODELTRANSLATION_LANGUAGES = ("en-gb", "zh-hans")
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en-gb",)
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the switcher's choice is remembered on this device for a year
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Dates shown to people follow the language (Simplified Chinese: 2026年3月4日); see prescreen/formats.
FORMAT_MODULE_PATH = ["prescreen.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded files (an import's file, kept until its import succeeds). With workers on several machines this folder
# must be storage they all share (NFS, a mounted volume), since a worker on another machine reads the upload.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"  # never served: uploads are read by workers only

# An import job's worker writes a heartbeat to the job's row every IMPORT_HEARTBEAT seconds; a job not heard from
# for IMPORT_LEASE seconds is taken to have died with its worker (ctgov/models.py: ImportJob).
IMPORT_HEARTBEAT = float(os.environ.get("IMPORT_HEARTBEAT", "2"))
IMPORT_LEASE = float(os.environ.get("IMPORT_LEASE", "60"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Health data: short sessions that end with the browser, and strict cookies/HTTPS in production. A session ends
# SESSION_IDLE_MINUTES after the last request, and SESSION_COOKIE_AGE seconds after signing in at the latest
# (prescreen/sessions.py); pages warn SESSION_WARNING_SECONDS before, with "Stay signed in".
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
SESSION_WARNING_SECONDS = 120
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# A strict Content-Security-Policy (django-csp): scripts, styles, images and requests from this site only; no inline
# script or style, no eval (htmx is configured without it, templates/htmx_config.html); never framed; forms post here.
# Bootstrap's icons are data: SVGs (img-src data:). tests/browser/test_csp.py fails on any violation report.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Patients are pseudonymous: a patient reference must match PATIENT_REF_PATTERN (a regular expression that JSON
# Schema reads the same way; the API's document publishes it), described to users by PATIENT_REF_HINT. Names, dates
# of birth, e-mail addresses, phone numbers and ID or record numbers are refused there and in free text
# (eligibility/identifiers.py, trials/validators.py).
PATIENT_REF_PATTERN = os.environ.get("PATIENT_REF_PATTERN", DEFAULT_REFERENCE_PATTERN)
PATIENT_REF_HINT = os.environ.get("PATIENT_REF_HINT", DEFAULT_REFERENCE_HINT)

# Where the public data sets live (tests and benchmarks only; the app never needs them).
SHARED_DIR = Path(os.environ.get("PRESCREEN_SHARED_DIR", BASE_DIR.parent / "shared"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
