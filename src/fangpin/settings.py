"""Django settings for fangpin. Everything a deployment changes comes from the environment."""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from huey import RedisHuey, SqliteHuey

from fangpin.conf import data_dir, env_bool, env_float, env_int, env_str, running_tests

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a random key kept in the data directory."""
    if key := env_str("FANGPIN_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("FANGPIN_DEBUG", False)
ALLOWED_HOSTS = [h for h in env_str("FANGPIN_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("FANGPIN_CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "ninja",  # serves Swagger UI from its own static files, not a CDN
    "huey.contrib.djhuey",
    "fangpin.web",
    "fangpin.regions",
    "fangpin.accounts",
    "fangpin.audit",
    "fangpin.jobs",
    "fangpin.registry",
    "fangpin.rules",
    "fangpin.feeds",
    "fangpin.rectification",
    "fangpin.monitoring",
    "fangpin.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "fangpin.web.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "fangpin.audit.middleware.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fangpin.urls"
WSGI_APPLICATION = "fangpin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fangpin.web.context.platform",
            ],
        },
    },
]

# --- database: embedded SQLite (WAL) by default, PostgreSQL when DATABASE_URL is set ----------
if database_url := env_str("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("FANGPIN_SQLITE_PATH", str(DATA_DIR / "fangpin.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE: a write transaction takes the lock at BEGIN, so two writers never
                # deadlock on a read→write upgrade (and the audit chain head is serialised).
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("FANGPIN_SQLITE_TIMEOUT", 120),
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                    "PRAGMA busy_timeout=120000; PRAGMA cache_size=-65536;"
                ),
            },
        }
    }
if running_tests() and DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # a file, not shared-cache memory: module-scoped fixtures and subprocesses see the same database
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and login security ----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "fangpin.accounts.validators.CharacterClassValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("FANGPIN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("FANGPIN_LOGIN_COOLOFF_MINUTES", 30) / 60  # hours
# Lock the account name (a password-guessing attack on one account) and, separately, an IP that
# tries many accounts.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Idle expiry: the cookie is renewed on every request and dies after this many idle seconds.
SESSION_COOKIE_AGE = env_int("FANGPIN_SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
HTTPS = env_bool("FANGPIN_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- privacy ------------------------------------------------------------------------------------
FANGPIN_KEY_FILE = env_str("FANGPIN_KEY_FILE", str(DATA_DIR / "keys" / "fangpin-keys.json"))
FANGPIN_PROVINCE_CODE = env_str("FANGPIN_PROVINCE_CODE", "14")
FANGPIN_IMPORT_CHUNK_SIZE = env_int("FANGPIN_IMPORT_CHUNK_SIZE", 2000)
# a rule whose findings exceed this share of the people/households it reads is marked 疑似规则或数据问题
FANGPIN_RULE_SUSPECT_SHARE = env_float("FANGPIN_RULE_SUSPECT_SHARE", 0.01)
# a county's own rule files (TOML, same form as rules/catalogue/), added to the shipped catalogue
FANGPIN_RULES_DIR = env_str("FANGPIN_RULES_DIR")
# the province's identification procedure (steps, owners, limits); monitoring/procedure.toml by default
FANGPIN_PROCEDURE_FILE = env_str("FANGPIN_PROCEDURE_FILE")

# --- jobs (huey: SQLite file beside the database by default, Redis when REDIS_URL is set) ------
HUEY_IMMEDIATE = env_bool("FANGPIN_JOBS_IMMEDIATE", running_tests())
if redis_url := env_str("REDIS_URL"):
    HUEY = RedisHuey("fangpin", url=redis_url, immediate=HUEY_IMMEDIATE)
else:
    HUEY = SqliteHuey("fangpin", filename=str(DATA_DIR / "jobs.sqlite3"), immediate=HUEY_IMMEDIATE)

# --- i18n, static, media --------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "files"
# photos and scans attached to verifications, cases and visits
FANGPIN_MAX_ATTACHMENT_MB = env_int("FANGPIN_MAX_ATTACHMENT_MB", 20)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("FANGPIN_LOG_LEVEL", "WARNING")},
    # huey logs every start-up detail at INFO through its own handler as well as ours
    "loggers": {"huey": {"level": "WARNING", "propagate": False, "handlers": ["console"]}},
}
