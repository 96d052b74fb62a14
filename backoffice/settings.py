"""Settings, from the environment alone (12-factor).

Production is the default: unless ``DEBUG=true``, these are production settings, and
``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DATABASE_URL`` must be set (the project refuses to
start without them, naming what is missing). Development needs ``DEBUG=true``, which
``make run``, ``make test``, ``make migrate``, ``make seed`` and the test settings set;
only then does a missing ``DATABASE_URL`` start the embedded PostgreSQL (see
``backoffice/embedded_db.py``). Every production variable is in the README's table.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from backoffice.env import MissingSetting, env_bool

BASE_DIR = Path(__file__).resolve().parent.parent

# Fail closed: a deployment that forgets DEBUG gets production settings, never tracebacks,
# a public development key, insecure cookies or sign-in without a second factor.
DEBUG = env_bool("DEBUG", default=False)
# What the environment selected. Unlike DEBUG, which Django's test runner turns off, this
# stays as loaded: ``seed_demo`` reads it to refuse production without explicit flags.
PRODUCTION = not DEBUG

SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
if PRODUCTION:
    MissingSetting.check(
        {
            "SECRET_KEY": (
                SECRET_KEY,
                "a long random string, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`",
            ),
            "ALLOWED_HOSTS": (
                ALLOWED_HOSTS,
                "the comma-separated host names the site is served under, e.g. backoffice.example.com",
            ),
            "DATABASE_URL": (
                os.environ.get("DATABASE_URL"),
                "the PostgreSQL server, e.g. "
                "postgres://user@db.internal:5432/backoffice (the embedded PostgreSQL is for development only)",
            ),
        }
    )
else:
    SECRET_KEY = SECRET_KEY or "django-insecure-development-only-key-not-for-production"  # noqa: S105
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "customer_ops.apps.BackofficeAdminConfig",  # django.contrib.admin with the home page per role
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
    "procrastinate.contrib.django",  # the task queue in PostgreSQL: webhook delivery (api.tasks)
    "ninja",  # the service API's framework: its docs page's templates and static files
    "api",
    "backoffice.apps.BackofficeConfig",  # production's system checks (backoffice/checks.py)
]

MIDDLEWARE = [
    # First: the load balancer's probes are answered before the HTTPS redirect and the
    # ALLOWED_HOSTS check (backoffice/health.py says why that is safe).
    "backoffice.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The service API (/api/): no cookies, so none of the session, CSRF, OTP and actor work
    # below; bodies capped (413); problem+json answers (api/middleware.py).
    "api.middleware.ApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "backoffice.sessions.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "customer_ops.bad_input.BadInputMiddleware",  # junk input is a 400/404, never a 500
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's, reading the session's device with a kept statement (backoffice/otp_middleware.py)
    "backoffice.otp_middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "customer_ops.middleware.ActorMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

if not DEBUG:
    # Production serves the collected static files itself (runserver does it in development).
    # Right after SecurityMiddleware, as whitenoise's documentation asks.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

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
            # {% url %} with one reverse() per view name, not per key (customer_ops/keyed_urls.py).
            "builtins": ["customer_ops.templatetags.keyed_url"],
        },
    },
]
# Forms through Django's Jinja2 widget templates where they exist, Django's otherwise
# (customer_ops/form_renderer.py): the same markup for half the work per field.
FORM_RENDERER = "customer_ops.form_renderer.FormRenderer"

# --- Database -----------------------------------------------------------------------
# Two roles (customer_ops/db_roles.py): DATABASE_URL is the runtime role the web process
# and the jobs connect as (rows only); DATABASE_OWNER_URL the owner that migrations use
# (`manage.py migrate` defaults to the "owner" alias). Without DATABASE_OWNER_URL one role
# does both. The embedded PostgreSQL creates and uses both roles.
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    DATABASES["owner"] = (
        dj_database_url.parse(os.environ["DATABASE_OWNER_URL"])
        if os.environ.get("DATABASE_OWNER_URL")
        else {**DATABASES["default"], "CONN_MAX_AGE": 0}
    )
else:
    from backoffice.embedded_db import database_settings

    DATABASES = database_settings(BASE_DIR / "var")
# The owner alias is the same database: tests never create a second one for it.
DATABASES["owner"]["TEST"] = {"MIRROR": "default"}
# The role the owner grants row rights to after each migrate; None with a single role.
DATABASE_RUNTIME_ROLE = (
    DATABASES["default"].get("USER") if DATABASES["owner"].get("USER") != DATABASES["default"].get("USER") else None
)
if os.environ.get("DATABASE_REPLICA_URL"):
    # A streaming replica of the primary, read by dashboards (backoffice/db_router.py).
    DATABASES["replica"] = dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=60)
DATABASE_ROUTERS = ["backoffice.db_router.ReplicaRouter"]

# A transaction-mode pooler (PgBouncer, pool_mode=transaction) in front of PostgreSQL:
# DATABASE_POOLER=pgbouncer. Each transaction may get another server connection, so nothing
# may live in a session (docs/scaling.md, "Behind PgBouncer"): no server-side cursors
# (iterator() would open a WITH HOLD cursor in one), no startup options (PgBouncer refuses
# them), no prepared statements (Django's default, prepare_threshold=None). The scheduled
# jobs' session-level lock then needs DATABASE_DIRECT_URL, a connection that bypasses the
# pooler (customer_ops/scheduled.py).
DATABASE_POOLER = os.environ.get("DATABASE_POOLER", "").strip().lower() or None
if DATABASE_POOLER not in (None, "pgbouncer"):
    raise ImproperlyConfigured(f"DATABASE_POOLER={DATABASE_POOLER!r}: only 'pgbouncer' (transaction pooling) is known")
if os.environ.get("DATABASE_DIRECT_URL"):
    DATABASES["direct"] = dj_database_url.parse(os.environ["DATABASE_DIRECT_URL"])
    DATABASES["direct"]["TEST"] = {"MIRROR": "default"}
# No JIT: it spends ~250 ms compiling the big plans of the admin's lists (e.g. the ticket queue
# at 300,000 tickets) that then run in a few ms; the back-office's reads are short and indexed.
# The database's own default says so (customer_ops migration 0064, which a pooler keeps); a
# direct connection also asks for it at startup, for a database whose owner could not set it.
for _name, _alias in DATABASES.items():
    if DATABASE_POOLER and _name != "direct":
        _alias["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        _alias.setdefault("OPTIONS", {})["options"] = "-c jit=off"

# Statement timeouts in milliseconds (backoffice/db_timeouts.py): the web process's
# connections start with the first; scheduled jobs set the second on their session.
DATABASE_STATEMENT_TIMEOUT = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT") or 15_000)
JOB_STATEMENT_TIMEOUT = int(os.environ.get("JOB_STATEMENT_TIMEOUT") or 3_600_000)

# The append-only TRUNCATE trigger is copied onto each log partition under the parent's name
# (customer_ops/partitions.py); pgtrigger does not know those copies and its install would prune them.
PGTRIGGER_PRUNE_ON_INSTALL = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"  # the spec's BIGSERIAL ids

# --- Auth ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out users before checking passwords
    # ModelBackend, with the permissions and group names in one statement and the session's
    # user read by a kept statement; it signs staff in (customer_ops/access.py)
    "customer_ops.access.OneQueryModelBackend",
    "django.contrib.auth.backends.ModelBackend",  # sessions from before still name it
]

# Brute-force protection (django-axes, with backoffice.security.LockoutHandler): 5 failures
# for one username, from any addresses, lock that username out for an hour; 20 failures from
# one client address, whatever the usernames (password spraying), lock that address. A
# failed second-factor code counts like a failed password. Unlock from the admin ("Access
# attempts") or `manage.py axes_reset`.
AXES_HANDLER = "backoffice.security.LockoutHandler"
AXES_FAILURE_LIMIT = 5
AXES_IP_FAILURE_LIMIT = 20  # one office behind NAT shares an address: typos of many people
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True  # the signed-in user's own failures only (LockoutHandler)
# Each attempt records when it expires: the admin's "Clean up expired attempts" action then
# works outside a sign-in request (without it, django-axes 8.3 fails there with a 500).
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_CLIENT_IP_CALLABLE = "customer_ops.context.client_ip"

# Reverse proxies in front of the web process that append to X-Forwarded-For (0: clients
# connect directly, only the socket's address is believed). See customer_ops.context.client_ip.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))

# Two-factor authentication (TOTP, django-otp): required in production, optional in the
# demo. Staff enrol their own device at their first sign-in and get recovery codes
# (backoffice/second_factor.py); a lead or an administrator can reset someone's.
REQUIRE_2FA = env_bool("REQUIRE_2FA", default=not DEBUG)
# Changing a second factor (new recovery codes, removing one's own, resetting someone else's)
# needs an app code entered within this many minutes (backoffice/second_factor.py).
SECOND_FACTOR_FRESH_MINUTES = int(os.environ.get("SECOND_FACTOR_FRESH_MINUTES") or 5)
OTP_TOTP_ISSUER = "Back-office"  # the name authenticator apps show next to the code
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # nobody reads another person's key or recovery codes

# Sessions: an idle timeout (activity renews the 30 minutes, at most once a minute) and an
# absolute lifetime (12 hours), both in backoffice/sessions.py; changing a password ends the
# user's other sessions (Django's session auth hash).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", 30)) * 60
# ... and whatever the activity, a session ends this long after its sign-in.
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", 12)) * 3600
SESSION_SAVE_EVERY_REQUEST = False
# Django's database sessions, each read a statement compiled once (backoffice/session_store.py).
SESSION_ENGINE = "backoffice.session_store"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- I18N / time --------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"  # metric days are UTC calendar days (ARCHITECTURE.md)
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------
STATIC_URL = "static/"
# Where `collectstatic` writes and whitenoise serves from (production: hashed, compressed,
# cached for a year; see README "Production").
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # whitenoise's compressed manifest storage, each URL worked out once (backoffice/static_storage.py)
        "BACKEND": "backoffice.static_storage.StaticFilesStorage"
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
    # TLS ends at a proxy, which tells the app with this header that the browser used HTTPS:
    # without it every request would look like plain HTTP (a redirect loop, secure cookies
    # that never come back). Only safe when the proxy sets or strips the header itself on
    # every request.
    # Fail closed: trusted by default only when a proxy is declared (TRUSTED_PROXY_COUNT >= 1);
    # setting it with no proxy declared is refused (backoffice/checks.py).
    _proxy_header = os.environ.get(
        "SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if TRUSTED_PROXY_COUNT >= 1 else ""
    ).strip()
    if _proxy_header:
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Import / export ----------------------------------------------------------------
IMPORT_EXPORT_USE_TRANSACTIONS = True  # a bad file imports nothing
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# No exported cell runs as a spreadsheet formula: the library calls the escaping of the
# project's formats (customer_ops.spreadsheet, OWASP's quote prefix) when this is on.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
# A control character in customer text would make openpyxl refuse the whole XLSX: replace it.
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True

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

# --- Events out (api.webhooks; README "Events") -------------------------------------------
# Webhook endpoints must be https in production; development and the tests' receivers on
# 127.0.0.1 use plain http.
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", default=DEBUG)
# The erasure fan-out: compliance's home page lists completed requests with a system
# that has not confirmed after this many days.
ERASURE_CONFIRMATION_DAYS = 7
# procrastinate's worker (`make worker`): the webhook queue, several deliveries at once.
# Finished jobs are deleted: the deliveries (api_webhook_deliveries) keep the record.
PROCRASTINATE_WORKER_DEFAULTS = {
    "concurrency": int(os.environ.get("WORKER_CONCURRENCY", "4")),
    "delete_jobs": "successful",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
