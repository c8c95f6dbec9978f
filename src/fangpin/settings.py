"""Django settings for fangpin. Everything a deployment changes comes from the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from huey import RedisHuey, SqliteHuey

from fangpin.conf import data_dir, env_bool, env_float, env_int, env_str, running_tests

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()
# matplotlib (the briefing's charts) keeps its font cache here, not in a home directory a service
# account may not have (else every process rebuilds it, about a second)
os.environ.setdefault("MPLCONFIGDIR", str(DATA_DIR / "cache" / "matplotlib"))


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
    "fangpin.retention",
    "fangpin.dossiers",
    "fangpin.reconciliation",
    "fangpin.reports",
    "fangpin.field",
    "fangpin.socialaid",
    "fangpin.classification",
    "fangpin.regimes",
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
    "fangpin.accounts.middleware.PasswordChangeRequiredMiddleware",
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
    {"NAME": "fangpin.accounts.validators.ChineseMinimumLengthValidator", "OPTIONS": {"min_length": 10}},
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
# Lock the account name after AXES_FAILURE_LIMIT failures; lock an address only when it fails against
# many accounts (fangpin.accounts.lockout), never for one person's typos behind a shared NAT address.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_HANDLER = "fangpin.accounts.lockout.LockoutHandler"
# axes warns when addresses are not in AXES_LOCKOUT_PARAMETERS: the handler above locks them itself
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
FANGPIN_LOGIN_IP_FAILURE_LIMIT = env_int("FANGPIN_LOGIN_IP_FAILURE_LIMIT", 20)
FANGPIN_LOGIN_IP_MIN_USERNAMES = env_int("FANGPIN_LOGIN_IP_MIN_USERNAMES", 5)
FANGPIN_LOCKOUT_PAGE_ROWS = env_int("FANGPIN_LOCKOUT_PAGE_ROWS", 200)
# the one-time password the system administrator issues for a new account or a reset (accounts.actions)
FANGPIN_ONE_TIME_PASSWORD_LENGTH = env_int("FANGPIN_ONE_TIME_PASSWORD_LENGTH", 12)
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# the audit log records every login (audit.spool: without waiting for an import); axes' own access log
# would be a second copy and a database write on every login
AXES_DISABLE_ACCESS_LOG = True

# Idle expiry: the cookie is renewed on every request and dies after this many idle seconds.
SESSION_COOKIE_AGE = env_int("FANGPIN_SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Sessions live outside the database: every page view renews its session (idle expiry), and on SQLite
# that write would wait behind an import's write transaction. Redis when REDIS_URL is set, else files
# in the data directory (written 0600 by Django, kept across restarts).
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_CACHE_ALIAS = "sessions"
CACHES = {
    # per process: the counts of web/summary.py, keyed by the data's version (never stale)
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 5000}},
    "sessions": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("REDIS_URL")}
        if env_str("REDIS_URL")
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "sessions"),
            "TIMEOUT": None,  # the session's own expiry applies
            "OPTIONS": {"MAX_ENTRIES": env_int("FANGPIN_MAX_SESSIONS", 100_000)},
        }
    ),
}
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
# the audit chain's HMAC key and the anchors' Ed25519 signing key (outside the database, 0600)
FANGPIN_AUDIT_KEY_FILE = env_str("FANGPIN_AUDIT_KEY_FILE", str(DATA_DIR / "keys" / "audit-key.json"))
# signed digests of the audit chain head, one a day (in the data directory, so every backup has them)
FANGPIN_AUDIT_ANCHOR_DIR = env_str("FANGPIN_AUDIT_ANCHOR_DIR", str(DATA_DIR / "audit" / "anchors"))
FANGPIN_AUDIT_ANCHOR_HOUR = env_int("FANGPIN_AUDIT_ANCHOR_HOUR", 16)  # daily anchor, UTC hour (00:00 北京)
FANGPIN_AUDIT_VERIFY_MAX_PROBLEMS = env_int("FANGPIN_AUDIT_VERIFY_MAX_PROBLEMS", 20)  # verify stops listing
# a login or a full view of a number waits this long for the audit chain, then is kept in the spool
# (its own small SQLite file) and put on the chain by the next append: never minutes behind an import
FANGPIN_AUDIT_WAIT_MS = env_int("FANGPIN_AUDIT_WAIT_MS", 200)
FANGPIN_AUDIT_SPOOL_FILE = env_str("FANGPIN_AUDIT_SPOOL_FILE", str(DATA_DIR / "audit" / "spool.sqlite3"))
# `fangpin keys rotate` re-encrypts this many values per UPDATE batch (one transaction overall)
FANGPIN_KEY_ROTATE_CHUNK_SIZE = env_int("FANGPIN_KEY_ROTATE_CHUNK_SIZE", 2000)
# backup archives: plaintext chunk size and the scrypt cost (log2 N) of the passphrase; both are
# recorded in each archive, restore reads them from there (up to FANGPIN_BACKUP_SCRYPT_MAX_LOG2)
FANGPIN_BACKUP_CHUNK_KIB = env_int("FANGPIN_BACKUP_CHUNK_KIB", 1024)
FANGPIN_BACKUP_SCRYPT_LOG2 = env_int("FANGPIN_BACKUP_SCRYPT_LOG2", 17)
FANGPIN_BACKUP_SCRYPT_MAX_LOG2 = env_int("FANGPIN_BACKUP_SCRYPT_MAX_LOG2", 20)
FANGPIN_BACKUP_PASSPHRASE_MIN_LENGTH = env_int("FANGPIN_BACKUP_PASSPHRASE_MIN_LENGTH", 12)
FANGPIN_PROVINCE_CODE = env_str("FANGPIN_PROVINCE_CODE", "14")
FANGPIN_IMPORT_CHUNK_SIZE = env_int("FANGPIN_IMPORT_CHUNK_SIZE", 2000)
# a rule whose findings exceed this share of the people/households it reads is marked 疑似规则或数据问题
FANGPIN_RULE_SUSPECT_SHARE = env_float("FANGPIN_RULE_SUSPECT_SHARE", 0.01)
# a county's own rule files (TOML, same form as rules/catalogue/), added to the shipped catalogue
FANGPIN_RULES_DIR = env_str("FANGPIN_RULES_DIR")
# the province's identification procedure (steps, owners, limits); monitoring/procedure.toml by default
FANGPIN_PROCEDURE_FILE = env_str("FANGPIN_PROCEDURE_FILE")
# the province's own regime files (政策口径: regimes/config/ form), beside or replacing the shipped ones
FANGPIN_REGIMES_DIR = env_str("FANGPIN_REGIMES_DIR")

# --- jobs (huey: SQLite file beside the database by default, Redis when REDIS_URL is set) ------
HUEY_IMMEDIATE = env_bool("FANGPIN_JOBS_IMMEDIATE", running_tests())
if redis_url := env_str("REDIS_URL"):
    HUEY = RedisHuey("fangpin", url=redis_url, immediate=HUEY_IMMEDIATE)
else:
    HUEY = SqliteHuey("fangpin", filename=str(DATA_DIR / "jobs.sqlite3"), immediate=HUEY_IMMEDIATE)
# each job runs in its own process, killed past this resident memory (the whole process tree, so a
# Spark JVM counts): a 250,000-person import peaks near 0.3 GiB, a DuckDB screening near 0.3-1.2 GiB
FANGPIN_JOB_MEMORY_MB = env_int("FANGPIN_JOB_MEMORY_MB", 2048)
FANGPIN_JOB_MEMORY_POLL_MS = env_int("FANGPIN_JOB_MEMORY_POLL_MS", 100)
# a process started this long after a job's start is another process that reused the job's pid
FANGPIN_JOB_PID_START_SLACK_SECONDS = env_float("FANGPIN_JOB_PID_START_SLACK_SECONDS", 1.0)
# serve restarts a worker that exited: after 1 s, doubling up to this while it keeps dying
FANGPIN_WORKER_RESTART_MAX_SECONDS = env_int("FANGPIN_WORKER_RESTART_MAX_SECONDS", 60)
# web processes of `fangpin serve` (0: one per core); a process that answers nothing for the timeout is
# restarted; on stop, requests in flight get the graceful seconds to finish
FANGPIN_WEB_PROCESSES = env_int("FANGPIN_WEB_PROCESSES", 0)
FANGPIN_WEB_TIMEOUT_SECONDS = env_int("FANGPIN_WEB_TIMEOUT_SECONDS", 120)
FANGPIN_WEB_GRACEFUL_SECONDS = env_int("FANGPIN_WEB_GRACEFUL_SECONDS", 10)

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
# files with full ID/phone numbers (written on request), import inputs and raw rosters are purged
# this many days after they were written or their job/roster finished (fangpin.retention)
FANGPIN_SENSITIVE_FILE_DAYS = env_int("FANGPIN_SENSITIVE_FILE_DAYS", 7)
# a county's own XLSForms for the phones (same file names as field/forms/); the shipped ones otherwise
FANGPIN_FIELD_FORMS_DIR = env_str("FANGPIN_FIELD_FORMS_DIR")
# what a table file (register, roster, inspection list) may cost, checked before parsing
# (common.limits): a real county export is 250,000 people ≈ 60 MB .xlsx with ~45 columns
FANGPIN_TABLE_MAX_MB = env_int("FANGPIN_TABLE_MAX_MB", 200)  # .xlsx/.csv file size
FANGPIN_XLS_MAX_MB = env_int("FANGPIN_XLS_MAX_MB", 60)  # .xls: read whole by calamine
FANGPIN_XLSX_MAX_UNCOMPRESSED_MB = env_int("FANGPIN_XLSX_MAX_UNCOMPRESSED_MB", 1024)  # that file: ~500 MB
FANGPIN_XLSX_MAX_PART_MB = env_int("FANGPIN_XLSX_MAX_PART_MB", 1024)
FANGPIN_XLSX_MAX_SHARED_STRINGS_MB = env_int("FANGPIN_XLSX_MAX_SHARED_STRINGS_MB", 300)  # held in memory
FANGPIN_XLSX_MAX_RATIO = env_int("FANGPIN_XLSX_MAX_RATIO", 100)  # Apache POI's default too
FANGPIN_XLSX_RATIO_FLOOR_MB = env_int("FANGPIN_XLSX_RATIO_FLOOR_MB", 1)  # smaller parts: any ratio
FANGPIN_TABLE_MAX_ROWS = env_int("FANGPIN_TABLE_MAX_ROWS", 600_000)
FANGPIN_TABLE_MAX_COLUMNS = env_int("FANGPIN_TABLE_MAX_COLUMNS", 1000)
FANGPIN_TABLE_MAX_CELL_CHARS = env_int("FANGPIN_TABLE_MAX_CELL_CHARS", 32767)  # Excel's own cell limit
FANGPIN_XLSX_MAX_SHARED_STRINGS = env_int("FANGPIN_XLSX_MAX_SHARED_STRINGS", 5_000_000)
FANGPIN_CSV_MAX_LINE_KB = env_int("FANGPIN_CSV_MAX_LINE_KB", 1024)
# which file types each kind of upload accepts (checked by content: common.files.check_upload),
# and the size limit per type family
FANGPIN_UPLOAD_TYPES = {  # comma-separated extensions
    "table": env_str("FANGPIN_TABLE_TYPES", "xlsx,xlsm,xls,csv,txt"),
    "evidence": env_str("FANGPIN_EVIDENCE_TYPES", "jpg,jpeg,png,pdf,docx,xlsx,doc,xls"),
    "attachment": env_str("FANGPIN_ATTACHMENT_TYPES", "jpg,jpeg,png,heic,pdf,ofd,doc,docx,xls,xlsx"),
}
FANGPIN_UPLOAD_MAX_MB = {
    "photo": env_int("FANGPIN_MAX_PHOTO_MB", FANGPIN_MAX_ATTACHMENT_MB),
    "pdf": env_int("FANGPIN_MAX_PDF_MB", FANGPIN_MAX_ATTACHMENT_MB),
    "office": env_int("FANGPIN_MAX_OFFICE_MB", FANGPIN_MAX_ATTACHMENT_MB),
    "table": FANGPIN_TABLE_MAX_MB,
}
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
    # every record is masked before any handler writes it: an exception may quote an ID or a phone
    # and a Collect token in a /field/<token>/ path (django.request logs refused requests' paths)
    "filters": {
        "scrub": {"()": "fangpin.retention.scrub.ScrubFilter"},
        "field_token": {"()": "fangpin.field.logs.FieldTokenFilter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["field_token", "scrub"]}},
    "root": {"handlers": ["console"], "level": env_str("FANGPIN_LOG_LEVEL", "WARNING")},
    # huey logs every start-up detail at INFO through its own handler as well as ours
    "loggers": {"huey": {"level": "WARNING", "propagate": False, "handlers": ["console"]}},
}
