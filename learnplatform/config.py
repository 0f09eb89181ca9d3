"""Configuration read from environment variables, with defaults that are safe on a laptop."""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """The environment does not describe a platform that can safely start."""


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _host(origin: str) -> str:
    """The host name of an origin, without its port: cookies are per host name."""
    return (urlsplit(origin).hostname or "").lower()


def _pool_size() -> dict:
    """``DATABASE_POOL_SIZE`` connections kept open, as many more when busy (SQLAlchemy's 5 and
    10 when unset); a request or chat event that finds them all in use waits for one up to
    ``DATABASE_POOL_TIMEOUT`` seconds (10), then fails. On gevent's loop a process serves
    thousands of greenlets with a few connections: each holds one only while it runs a query or
    a transaction, not for the life of a WebSocket."""
    size = _int("DATABASE_POOL_SIZE", 0)
    if size <= 0:
        return {}
    return {
        "pool_size": size,
        "max_overflow": size,
        "pool_timeout": _int("DATABASE_POOL_TIMEOUT", 10),
    }


def from_environment(instance_path: Path) -> dict:
    """Build the configuration mapping from the process environment.

    ``LEARNPLATFORM_ENV=production`` turns missing secrets into errors instead of defaults.
    """
    production = os.environ.get("LEARNPLATFORM_ENV", "development") == "production"
    secret_key = os.environ.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigurationError("SECRET_KEY must be set when LEARNPLATFORM_ENV=production.")
        # A development key that lives only as long as the process: nothing signed with it survives
        # a restart, which is the safe failure for a laptop.
        secret_key = secrets.token_hex(32)
    database_url = (
        os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'learnplatform.db'}"
    )
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        # psycopg 3 is the driver the platform ships with.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    secure_cookies = _flag("SECURE_COOKIES", default=production)
    redis_url = os.environ.get("REDIS_URL") or None
    sendfile = os.environ.get("STORAGE_SENDFILE", "").strip().lower()
    if sendfile not in {"", "x-accel-redirect", "x-sendfile"}:
        raise ConfigurationError("STORAGE_SENDFILE must be x-accel-redirect, x-sendfile or empty.")
    log_format = os.environ.get("LOG_FORMAT", "").strip().lower() or (
        "json" if production else "text"
    )
    if log_format not in {"json", "text"}:
        raise ConfigurationError("LOG_FORMAT must be json or text.")
    lrs_url = os.environ.get("LRS_URL", "").strip()
    if lrs_url and not lrs_url.startswith(("http://", "https://")):
        raise ConfigurationError("LRS_URL must be an http:// or https:// address, or empty.")
    xapi_actor = os.environ.get("XAPI_ACTOR", "").strip().lower() or "account"
    if xapi_actor not in {"account", "mbox"}:
        raise ConfigurationError("XAPI_ACTOR must be account or mbox.")
    public_origin = os.environ.get("PUBLIC_ORIGIN", "").rstrip("/") or None
    content_origin = os.environ.get("SCORM_CONTENT_ORIGIN", "").rstrip("/") or None
    if content_origin and (
        not content_origin.startswith(("http://", "https://"))
        or (public_origin and _host(content_origin) == _host(public_origin))
    ):
        raise ConfigurationError(
            "SCORM_CONTENT_ORIGIN must be an http:// or https:// address on another host name "
            "than PUBLIC_ORIGIN (cookies are shared between the ports of one host)."
        )
    default_key_file = instance_path / "keys" / "credentials-ed25519.pem"
    credentials_key_file = Path(os.environ.get("CREDENTIALS_KEY_FILE") or default_key_file)
    credentials_key_file = credentials_key_file.resolve()
    in_repository = credentials_key_file.is_relative_to(PROJECT_ROOT)
    if in_repository and not credentials_key_file.is_relative_to(instance_path.resolve()):
        # Everywhere in the work tree but instance/ (ignored by git) a key could be committed.
        raise ConfigurationError(
            "CREDENTIALS_KEY_FILE must be outside the repository, or under instance/."
        )
    return {
        "PRODUCTION": production,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **_pool_size()},
        "REDIS_URL": redis_url,
        "PUBLIC_ORIGIN": public_origin,
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # A request that waited longer than this in the server's queue (measured from the front
        # server's X-Request-Start) is refused with 503 rather than run late; 0 turns it off.
        "REQUEST_QUEUE_TIMEOUT": float(os.environ.get("REQUEST_QUEUE_TIMEOUT") or 30),
        # /metrics answers whoever sends this token as a bearer; without one, only requests from
        # this machine that came through no proxy (learnplatform.metrics).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
        # Log lines: one JSON object each ("json", the default in production) or text
        # (learnplatform.logs).
        "LOG_FORMAT": log_format,
        # Cookies: never readable by scripts, not sent on cross-site posts, Secure behind TLS.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_NAME": "__Host-session" if secure_cookies else "session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_ABSOLUTE_HOURS", 12)),
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 120),
        "SESSION_ABSOLUTE_HOURS": _int("SESSION_ABSOLUTE_HOURS", 12),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PREFERRED_URL_SCHEME": "https" if secure_cookies else "http",
        # Request size: uploads get their own limits in their views; forms stay small.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        "MAX_FORM_MEMORY_SIZE": _int("MAX_FORM_MEMORY_SIZE", 500_000),
        "MAX_FORM_PARTS": _int("MAX_FORM_PARTS", 1000),
        # Uploaded files: kept outside static/ under generated names (learnplatform.storage).
        "STORAGE_DIR": os.environ.get("STORAGE_DIR") or str(instance_path / "storage"),
        "ATTACHMENT_MAX_BYTES": _int("ATTACHMENT_MAX_BYTES", 50 * 1024 * 1024),
        "RECORDING_MAX_BYTES": _int("RECORDING_MAX_BYTES", 2_000_000_000),
        # A CSV file of people to invite to an iRoom (irooms.email_invitations).
        "INVITATION_LIST_MAX_BYTES": _int("INVITATION_LIST_MAX_BYTES", 256 * 1024),
        # Production: let the front web server send stored files once a view has allowed them.
        # "x-accel-redirect" (nginx: an internal location at STORAGE_ACCEL_PREFIX aliased to
        # STORAGE_DIR) or "x-sendfile" (Apache mod_xsendfile); empty: the application sends them.
        "STORAGE_SENDFILE": sendfile,
        "STORAGE_ACCEL_PREFIX": os.environ.get("STORAGE_ACCEL_PREFIX", "/_storage/"),
        # A recording played again by the same person within this window is not a new view.
        "VIEW_WINDOW_MINUTES": _int("VIEW_WINDOW_MINUTES", 30),
        # Zip-based documents (Word, Excel, PowerPoint, OpenDocument) are opened before anything
        # else is done with them; these bound what a crafted archive can cost.
        "ZIP_MAX_ENTRIES": _int("ZIP_MAX_ENTRIES", 2000),
        "ZIP_MAX_UNPACKED_BYTES": _int("ZIP_MAX_UNPACKED_BYTES", 300 * 1024 * 1024),
        # SCORM packages (courses.scorm.importing): the zip as uploaded, then the same checks.
        "SCORM_MAX_BYTES": _int("SCORM_MAX_BYTES", 500 * 1024 * 1024),
        "SCORM_MAX_ENTRIES": _int("SCORM_MAX_ENTRIES", 10_000),
        "SCORM_MAX_UNPACKED_BYTES": _int("SCORM_MAX_UNPACKED_BYTES", 1536 * 1024 * 1024),
        # SCORM package content is served from this other origin (another host name than the
        # platform's, e.g. https://content.example.org, pointing at the same servers), where the
        # platform's cookies never go (courses.scorm.content); empty: packages cannot be played.
        "SCORM_CONTENT_ORIGIN": content_origin,
        # How long the address of a package's content, given with a lesson page, stays valid.
        "SCORM_CONTENT_HOURS": _int("SCORM_CONTENT_HOURS", 12),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session that holds it
        "PASSWORD_MIN_LENGTH": 12,
        "PASSWORD_MAX_LENGTH": 256,
        "TOKEN_HOURS": {"reset_password": 1, "confirm_email": 48},
        # Throttling: failed logins per account and per address, over a sliding window; the
        # account is never locked for good.
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "learnplatform"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # While that store cannot be reached, each process counts on its own: Redis down must
        # not turn every login into an error (the chat's limit does the same, irooms.messages).
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes"),
        "MAIL_LIMIT_PER_ADDRESS": os.environ.get("MAIL_LIMIT_PER_ADDRESS", "10 per hour"),
        # Public verification of certificates (courses.certificate_views), per address: enough
        # for a verifier checking a pile of certificates, too few to try codes at random.
        "VERIFY_LIMIT_PER_ADDRESS": os.environ.get("VERIFY_LIMIT_PER_ADDRESS", "30 per minute"),
        # Who issues the certificates, as they and their public verification name it; empty:
        # the platform's name, in the reader's language (courses.certificates.issuing_office).
        "CERTIFICATE_ISSUER": os.environ.get("CERTIFICATE_ISSUER") or None,
        # Chat: messages a person may post a second, and in one burst.
        "CHAT_RATE": float(os.environ.get("CHAT_RATE", "5")),
        "CHAT_BURST": _int("CHAT_BURST", 10),
        # Each process serving the chat beats this often; one silent for three beats is taken
        # for dead, and the people it held go offline (irooms.presence). 0: nothing expires.
        "CHAT_HEARTBEAT_SECONDS": float(os.environ.get("CHAT_HEARTBEAT_SECONDS") or 10),
        "UPLOAD_LIMIT_PER_ACCOUNT": os.environ.get("UPLOAD_LIMIT_PER_ACCOUNT", "120 per hour"),
        # E-mail: SMTP when MAIL_SERVER is set, otherwise the outbox table (`flask outbox`).
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int("MAIL_PORT", 587),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", default=True),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "Learning Platform <no-reply@localhost>"),
        # SSL from the first byte (port 465) rather than STARTTLS.
        "MAIL_USE_SSL": _flag("MAIL_USE_SSL"),
        # Tries to hand an e-mail to the SMTP server, minutes apart doubling from one (1, 2, 4...
        # up to 6 hours), before it is given up and listed by `flask outbox --failed`.
        "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", 12),
        # Background jobs (learnplatform.jobs): Redis when set, else a SQLite file.
        "JOBS_REDIS_URL": os.environ.get("JOBS_REDIS_URL") or redis_url,
        "JOBS_DATABASE": os.environ.get("JOBS_DATABASE") or str(instance_path / "jobs.sqlite"),
        "JOBS_WORKERS": _int("JOBS_WORKERS", 4),
        # Run each job at once in the process that asks for it, without a worker (tests).
        "JOBS_IMMEDIATE": _flag("JOBS_IMMEDIATE"),
        # Daily digests leave at this hour of each person's own time zone.
        "DIGEST_HOUR": _int("DIGEST_HOUR", 7),
        # Statistics exports made in the background: their files are deleted this many days
        # after they were made (learnplatform.stats.background).
        "EXPORT_KEEP_DAYS": _int("EXPORT_KEEP_DAYS", 7),
        # xAPI statements (learnplatform.xapi) go to this Learning Record Store's xAPI endpoint,
        # e.g. https://lrs.example.org/xAPI/, with HTTP Basic LRS_KEY and LRS_SECRET; empty: no
        # statement is recorded. The actor is a pseudonymous account unless XAPI_ACTOR=mbox
        # (the person's e-mail address and name: an administrator's choice).
        "LRS_URL": lrs_url,
        "LRS_KEY": os.environ.get("LRS_KEY", ""),
        "LRS_SECRET": os.environ.get("LRS_SECRET", ""),
        "LRS_TIMEOUT": float(os.environ.get("LRS_TIMEOUT") or 10),
        "XAPI_ACTOR": xapi_actor,
        # Open Badges 3.0 credentials (courses.credentials) are signed with the Ed25519 private
        # key in this file, made once by `flask credentials-key` (the set-up runs it).
        "CREDENTIALS_KEY_FILE": str(credentials_key_file),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
    }
