"""Plan Tracker settings: one module, every value that differs between machines comes
from the environment, with defaults that are safe on a developer's laptop."""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str) -> int:
    value = os.getenv(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", "true")
SECRET_KEY = os.getenv("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "insecure-local-development-key-only-for-debug-mode"
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "import_export",
    "axes",
    "departments",
    "plan",
    "tasks",
    "supervision",
]

MIDDLEWARE = [
    "plantracker.proxy.ForwardedProtoMiddleware",  # before anything asks is_secure()
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "plantracker.proxy.LoginThrottleMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "plantracker.urls"

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
                "departments.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "plantracker.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", "0"),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling, before any password is hashed: django-axes locks a username and address
# pair after 5 failures, and plantracker.proxy.LoginThrottleMiddleware an address after 30
# failures over all usernames (password spraying; a whole office behind one NAT address
# stays in). Both for 15 minutes: a locked-out colleague (or one locked out on purpose by
# someone guessing his password) waits a quarter of an hour, not an hour.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend whose get_user reads the user with his roles and departments (one query
    # on every page instead of two). Sessions of the old ModelBackend log in again once.
    "departments.backends.MemberBackend",
]
AXES_FAILURE_LIMIT = envint("PLANTRACKER_LOGIN_FAILURE_LIMIT", "5")
LOGIN_ADDRESS_FAILURE_LIMIT = envint("PLANTRACKER_LOGIN_ADDRESS_FAILURE_LIMIT", "30")
LOGIN_COOLOFF_MINUTES = envint("PLANTRACKER_LOGIN_COOLOFF_MINUTES", "15")
AXES_COOLOFF_TIME = datetime.timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "plantracker.proxy.client_ip"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
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
# Evidence files live here; they are served only through a view that checks permission.
MEDIA_ROOT = Path(os.getenv("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

EMAIL_BACKEND = os.getenv("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.getenv("DJANGO_DEFAULT_FROM_EMAIL", "plantracker@localhost")

# Plan Tracker's own rules.
REPORT_DUE_DAYS = envint("PLANTRACKER_REPORT_DUE_DAYS", "10")
EVIDENCE_MAX_BYTES = envint("PLANTRACKER_EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024))
# Links in mails point here (no request to build them from when cron sends them).
SITE_URL = os.getenv("PLANTRACKER_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Reminder cadence for a quarter's reports: so many days before the due date, on it, and
# then every so many days while overdue. At most one reminder mail a person a day.
REMINDER_DAYS_BEFORE = [
    int(day) for day in envlist("PLANTRACKER_REMINDER_DAYS_BEFORE", "7,1") if day.isdecimal()
]
REMINDER_OVERDUE_EVERY = envint("PLANTRACKER_REMINDER_OVERDUE_EVERY", "7")
# The in-app "deadline in N days" notice.
NOTICE_DEADLINE_DAYS = envint("PLANTRACKER_NOTICE_DEADLINE_DAYS", "3")
# The issuing office printed on the quarterly bulletin (督查通报); the plan's issuer if empty.
BULLETIN_ISSUER = os.getenv("PLANTRACKER_BULLETIN_ISSUER", "")
# The demo's clock (plantracker.clock): "today" is this date (YYYY-MM-DD) instead of the real
# one, so the 2014 plan can be shown in its third quarter. Refused when DEBUG is off.
DEMO_DATE = os.getenv("PLANTRACKER_DEMO_DATE", "").strip() or None
if DEMO_DATE and not DEBUG:
    raise ImproperlyConfigured("PLANTRACKER_DEMO_DATE is refused when DJANGO_DEBUG is off")
if DEMO_DATE:
    try:
        datetime.date.fromisoformat(DEMO_DATE)
    except ValueError:
        raise ImproperlyConfigured(
            f"PLANTRACKER_DEMO_DATE must be a date, YYYY-MM-DD, not {DEMO_DATE!r}"
        ) from None

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Static files: whitenoise serves them; in debug and tests it reads the app folders directly.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
IMPORT_MAX_BYTES = envint("PLANTRACKER_IMPORT_MAX_BYTES", str(20 * 1024 * 1024))
# The most data rows, and cells in all, an uploaded table may have (spreadsheets.reading).
IMPORT_MAX_ROWS = envint("PLANTRACKER_IMPORT_MAX_ROWS", "50000")
IMPORT_MAX_CELLS = envint("PLANTRACKER_IMPORT_MAX_CELLS", "1000000")

# Security. With DJANGO_DEBUG off, `manage.py check --deploy` is clean: HTTPS only, secure
# and HttpOnly cookies, HSTS. Behind nginx, DJANGO_BEHIND_PROXY=true trusts its
# X-Forwarded-Proto header when the request comes from DJANGO_TRUSTED_PROXIES (proxy.py).
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = envbool("DJANGO_SECURE_COOKIES", str(not DEBUG))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("DJANGO_SSL_REDIRECT", str(not DEBUG))
SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000")
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
BEHIND_PROXY = envbool("DJANGO_BEHIND_PROXY", "false")
# The proxies whose X-Real-IP / X-Forwarded-For are believed (addresses or networks): nginx.
TRUSTED_PROXIES = envlist("DJANGO_TRUSTED_PROXIES", "127.0.0.1,::1")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", "")
# Our own Chinese page: says the typed text was kept in the browser and leads back to the form.
CSRF_FAILURE_VIEW = "tasks.editing.csrf_failure"
# Database sessions that know when they expire (the edit pages warn before a login ends).
SESSION_ENGINE = "plantracker.sessions"

# Content-Security-Policy (django-csp): everything from this site only, no inline scripts.
# Inline style attributes are allowed for the Django admin's templates.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
