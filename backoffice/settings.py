"""Settings, from the environment alone (12-factor).

``DEBUG=false`` selects production settings (unset means development): a ``SECRET_KEY`` is then
required and the security middleware settings are strict. ``make run`` and the test
settings set what they need. ``DATABASE_URL`` selects the PostgreSQL server; without it
the project starts its own embedded PostgreSQL (see ``backoffice/embedded_db.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Production is selected explicitly with DEBUG=false (and then needs a SECRET_KEY). Unset
# means development, so that tooling such as `manage.py migrate` for the schema check runs
# with a bare DATABASE_URL; `check --deploy` flags a deployment that forgot DEBUG=false.
DEBUG = env_bool("DEBUG", default=True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false (production settings).")
    SECRET_KEY = "django-insecure-development-only-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
if DEBUG and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "pgtrigger",
    "simple_history",
    "import_export",
    "django_filters",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "customer_ops",
    "tickets",
    "fraud",
    "analytics",
    "compliance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "backoffice.sessions.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "customer_ops.bad_input.BadInputMiddleware",  # junk input is a 400/404, never a 500
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "customer_ops.middleware.ActorMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

if not DEBUG:
    # Production serves the collected static files itself (runserver does it in development).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

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

# --- Database -----------------------------------------------------------------------
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    from backoffice.embedded_db import database_settings

    DATABASES = {"default": database_settings(BASE_DIR / "var")}
# No JIT: it spends ~250 ms compiling the big plans of the admin's lists (e.g. the ticket queue
# at 300,000 tickets) that then run in a few ms; the back-office's reads are short and indexed.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

if os.environ.get("DATABASE_REPLICA_URL"):
    # A streaming replica of the primary, read by dashboards (backoffice/db_router.py).
    DATABASES["replica"] = dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=60)
DATABASE_ROUTERS = ["backoffice.db_router.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"  # the spec's BIGSERIAL ids

# --- Auth ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out users before checking passwords
    "django.contrib.auth.backends.ModelBackend",
]

# Brute-force protection (django-axes): 5 failures for one username from one IP locks
# that pair out for an hour. Unlock from the admin ("Access attempts") or `manage.py axes_reset`.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
# Each attempt records when it expires: the admin's "Clean up expired attempts" action then
# works outside a sign-in request (without it, django-axes 8.3 fails there with a 500).
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_REAL_IP", "REMOTE_ADDR"]

# Two-factor authentication (TOTP, django-otp): required in production, optional in the
# demo. Staff enrol a TOTP device in the admin ("TOTP devices").
REQUIRE_2FA = env_bool("REQUIRE_2FA", default=not DEBUG)

# Sessions: an idle timeout (activity renews the 30 minutes, at most once a minute: see
# backoffice/sessions.py); changing a password ends the user's other sessions (Django's
# session auth hash).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", 30)) * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- I18N / time --------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"  # metric days are UTC calendar days (ARCHITECTURE.md)
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (production = DEBUG false) --------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): everything from our own origin, no inline script,
# no eval, no inline style; the stock admin and our templates work under it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# django-import-export lets every staff member export and import unless told otherwise:
# exports need the model's view permission, imports its add permission (admins that need
# narrower rights, such as the ticket queue's export, override has_export_permission).
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Import / export ----------------------------------------------------------------
IMPORT_EXPORT_USE_TRANSACTIONS = True  # a bad file imports nothing
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# --- Domain targets (one place; read through customer_ops.deadlines) --------------------
# Ticket SLA per priority, in minutes: first response and resolution.
SUPPORT_SLA = {
    "CRITICAL": {"first_response_minutes": 15, "resolution_minutes": 4 * 60},
    "URGENT": {"first_response_minutes": 30, "resolution_minutes": 8 * 60},
    "HIGH": {"first_response_minutes": 60, "resolution_minutes": 24 * 60},
    "MEDIUM": {"first_response_minutes": 4 * 60, "resolution_minutes": 48 * 60},
    "LOW": {"first_response_minutes": 8 * 60, "resolution_minutes": 72 * 60},
}
# Days to respond to a dispute, per dispute type.
DISPUTE_RESPONSE_DAYS = {"REFUND": 7, "QUALITY": 7, "NON_DELIVERY": 5, "OVERCHARGE": 10, "FRAUD": 3}
GDPR_ERASURE_DAYS = 30  # statutory: one month from the request
DEADLINE_DUE_SOON_HOURS = 4  # "due soon" warning window

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
