"""Configuration, read from environment variables when a config class is made.

Nothing here reads the environment at import time: `Config()` does, so that
tests and a second instance can set variables before creating the app.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def normalise_database_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


PROXY_FIX_KEYS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")


def proxy_fix_from_env() -> dict[str, int] | None:
    """Werkzeug ProxyFix arguments: HOTLINE_PROXY_FIX="x_for=1,x_proto=1,x_host=1", or
    HOTLINE_TRUSTED_PROXIES=N (that many proxies for X-Forwarded-For, -Proto, -Host, -Port).
    None (the default): X-Forwarded-* headers are ignored, as a client could forge them."""
    spec = env_str("HOTLINE_PROXY_FIX")
    if spec:
        values: dict[str, int] = {}
        for part in spec.split(","):
            key, sep, number = part.strip().partition("=")
            if key not in PROXY_FIX_KEYS or not sep or not number.strip().isdigit():
                raise RuntimeError(
                    f"HOTLINE_PROXY_FIX: cannot read {part.strip()!r}: use e.g. x_for=1,x_proto=1,x_host=1 "
                    f"(keys: {', '.join(PROXY_FIX_KEYS)})"
                )
            values[key] = int(number)
        return values or None
    count = env_str("HOTLINE_TRUSTED_PROXIES")
    if count:
        if not count.strip().isdigit():
            raise RuntimeError("HOTLINE_TRUSTED_PROXIES must be a number of proxies (e.g. 1)")
        n = int(count)
        return {"x_for": n, "x_proto": n, "x_host": n, "x_port": n} if n else None
    return None


class Config:
    TESTING = False

    def __init__(self) -> None:
        self.SECRET_KEY = env_str("SECRET_KEY", "dev-only-not-secret")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(
            env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'hotline.db'}")
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        # SQLite only: FULL syncs each commit to disk (a ticket logged survives a power cut);
        # NORMAL is faster and can lose the last commits with the machine (see _tune_sqlite).
        self.HOTLINE_SQLITE_SYNCHRONOUS = (env_str("HOTLINE_SQLITE_SYNCHRONOUS", "FULL") or "").upper()
        if self.HOTLINE_SQLITE_SYNCHRONOUS not in ("FULL", "NORMAL"):
            raise RuntimeError("HOTLINE_SQLITE_SYNCHRONOUS must be FULL or NORMAL")
        # Empty means "no Redis": jobs are not enqueued and the sweeper catches up later.
        self.REDIS_URL = env_str("REDIS_URL", "")
        self.RQ_QUEUE = env_str("HOTLINE_RQ_QUEUE", "hotline")
        # Bulk work (report rebuilds, hotspots, training) waits here, never in front of a ticket.
        self.RQ_BULK_QUEUE = env_str("HOTLINE_RQ_BULK_QUEUE", f"{self.RQ_QUEUE}-bulk")
        # A bulk-only worker lowers its CPU priority by this much (nice): on a machine it shares
        # with the web app and the urgent worker, a rebuild takes the CPU they leave. 0: off.
        self.HOTLINE_BULK_NICE = env_int("HOTLINE_BULK_NICE", 10)
        # Web paths where Redis is on the side (intake's hand-over, throttles) wait this long at
        # most, then skip Redis for a few seconds (services/platform/redis_guard.py).
        self.HOTLINE_REDIS_SIDE_TIMEOUT = env_float("HOTLINE_REDIS_SIDE_TIMEOUT", 0.5)
        self.HOTLINE_TIMEZONE = env_str("HOTLINE_TIMEZONE", "Asia/Shanghai")
        self.HOTLINE_PHONE_REGION = env_str("HOTLINE_PHONE_REGION", "CN")
        self.BABEL_DEFAULT_LOCALE = env_str("HOTLINE_DEFAULT_LOCALE", "zh_CN")
        self.BABEL_DEFAULT_TIMEZONE = self.HOTLINE_TIMEZONE
        self.BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
        self.HOTLINE_LANGUAGES = ["zh_CN", "en"]
        # Office hours on working days; HOTLINE_OFFICE_HOURS_SAT etc. override one weekday.
        self.HOTLINE_OFFICE_HOURS = env_str("HOTLINE_OFFICE_HOURS", "09:00-12:00,13:30-17:30")
        # Units in a tree (issue 17): a ticket sent down (下派) is due this many hours before the
        # deadline of the unit that sends it, unless the sender names a deadline.
        self.HOTLINE_SUBDISPATCH_MARGIN_HOURS = env_float("HOTLINE_SUBDISPATCH_MARGIN_HOURS", 24.0)
        for key in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"):
            setattr(self, f"HOTLINE_OFFICE_HOURS_{key}", env_str(f"HOTLINE_OFFICE_HOURS_{key}"))
        # A learned suggestion this confident routes a ticket that no rule or default placed.
        self.HOTLINE_AUTO_ROUTE_CONFIDENCE = env_float("HOTLINE_AUTO_ROUTE_CONFIDENCE", 0.9)
        # How far back to look for likely duplicates (重复件) at intake and on the desk.
        self.HOTLINE_DUPLICATE_WINDOW_DAYS = env_int("HOTLINE_DUPLICATE_WINDOW_DAYS", 7)
        self.HOTLINE_API_PAGE_SIZE = env_int("HOTLINE_API_PAGE_SIZE", 50)
        # -- duty rota (值班, issue 17 item 4): an urgent ticket that reaches a unit out of office
        # hours texts the person on duty at once; unaccepted, the next steps follow, each this
        # many minutes after the one before (the call: HOTLINE_DUTY_CALL_AFTER_MINUTES).
        self.HOTLINE_DUTY_STEPS = env_str("HOTLINE_DUTY_STEPS", "text,call,lead,supervisor")
        self.HOTLINE_DUTY_CALL_AFTER_MINUTES = env_int("HOTLINE_DUTY_CALL_AFTER_MINUTES", 10)
        self.HOTLINE_DUTY_ESCALATE_AFTER_MINUTES = env_int("HOTLINE_DUTY_ESCALATE_AFTER_MINUTES", 15)
        # Attachments (issue 18 item 5): where files are kept (local: a folder; s3: S3-compatible
        # object storage, HOTLINE_S3_*), and the largest file accepted.
        self.HOTLINE_ATTACHMENTS_STORAGE = env_str("HOTLINE_ATTACHMENTS_STORAGE", "local")
        self.HOTLINE_ATTACHMENTS_DIR = env_str("HOTLINE_ATTACHMENTS_DIR", str(BASE_DIR / "instance" / "attachments"))
        self.HOTLINE_ATTACHMENT_MAX_BYTES = env_int("HOTLINE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
        # S3 (services/platform/s3_store.py, docs/production.md): the bucket; the endpoint of an
        # S3-compatible server (MinIO...; empty: AWS); the region (empty: AWS_DEFAULT_REGION); path or
        # virtual-host addressing (empty: path with an endpoint, else auto). Credentials: the AWS_* variables.
        self.HOTLINE_S3_BUCKET = env_str("HOTLINE_S3_BUCKET", "")
        self.HOTLINE_S3_ENDPOINT_URL = env_str("HOTLINE_S3_ENDPOINT_URL", "")
        self.HOTLINE_S3_REGION = env_str("HOTLINE_S3_REGION", "")
        self.HOTLINE_S3_ADDRESSING_STYLE = env_str("HOTLINE_S3_ADDRESSING_STYLE", "")
        # Twilio: without the account SID, token and a sender (number or messaging service),
        # messages to citizens stay in the outbox as "held" and every webhook is refused.
        self.TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
        self.TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
        self.TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
        self.TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID", "")
        # Empty in production; a URL (http://127.0.0.1:8099) sends the REST calls to a local fake.
        self.TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "")
        # The public base URL (https://hotline.example.gov) behind a proxy: webhook signatures are
        # checked against it, and status callbacks are asked for only when it is known.
        self.HOTLINE_PUBLIC_URL = env_str("HOTLINE_PUBLIC_URL", "")
        # geo (issue 18): the maps' tile layer, e.g. https://tiles.example.gov/{z}/{x}/{y}.png (its
        # origin is allowed in the pages' img-src); empty: the district outlines and places are the
        # background, drawn as vectors, so that maps work offline.
        self.HOTLINE_MAP_TILES_URL = env_str("HOTLINE_MAP_TILES_URL", "")
        self.HOTLINE_MAP_TILES_ATTRIBUTION = env_str("HOTLINE_MAP_TILES_ATTRIBUTION", "")
        # Phone calls (Twilio voice): callers wait in this Twilio queue for an operator, at most
        # HOTLINE_VOICE_MAX_WAIT seconds before being offered voicemail. Operators take calls round
        # the clock ("always", the default: a 12345 line is staffed 7x24), or, for a line that really
        # closes, within office hours ("office", the working calendar; voicemail outside them).
        self.HOTLINE_VOICE_QUEUE = env_str("HOTLINE_VOICE_QUEUE", "operators")
        self.HOTLINE_VOICE_MAX_WAIT = env_int("HOTLINE_VOICE_MAX_WAIT", 120)
        self.HOTLINE_VOICE_HOURS = env_str("HOTLINE_VOICE_HOURS", "always")
        # Twilio text-to-speech voices for the Chinese and English greetings.
        self.HOTLINE_VOICE_TTS_ZH = env_str("HOTLINE_VOICE_TTS_ZH", "alice")
        self.HOTLINE_VOICE_TTS_EN = env_str("HOTLINE_VOICE_TTS_EN", "alice")
        # The category code of voicemail tickets; unset: a top-level category named 其他/Other.
        self.HOTLINE_VOICEMAIL_CATEGORY = env_str("HOTLINE_VOICEMAIL_CATEGORY", "")
        # Resolved tickets the citizen has not rated are closed after this many days.
        self.HOTLINE_SURVEY_DAYS = env_int("HOTLINE_SURVEY_DAYS", 3)
        # Contact with the citizen and callback (issue 17): the number the hotline calls from (a
        # voice number; empty: TWILIO_FROM_NUMBER), and which resolved tickets operators call back
        # (complaints, unrated within HOTLINE_CALLBACK_HOURS, or both).
        self.TWILIO_VOICE_NUMBER = env_str("TWILIO_VOICE_NUMBER", "")
        self.HOTLINE_CALLBACK_POLICY = env_str("HOTLINE_CALLBACK_POLICY", "complaints,unrated")
        self.HOTLINE_CALLBACK_HOURS = env_int("HOTLINE_CALLBACK_HOURS", 24)
        # Hotspot detection (day, week and month windows) runs this often; 0: not scheduled.
        self.HOTLINE_HOTSPOT_EVERY_MINUTES = env_int("HOTLINE_HOTSPOT_EVERY_MINUTES", 60)
        # A knowledge-base article unused this many days is flagged for its owner.
        self.HOTLINE_KNOWLEDGE_STALE_DAYS = env_int("HOTLINE_KNOWLEDGE_STALE_DAYS", 90)
        # Deployment (docs/production.md): log format (text or json lines), and the proxy headers
        # to trust: off unless HOTLINE_PROXY_FIX or HOTLINE_TRUSTED_PROXIES says how many proxies.
        self.HOTLINE_LOG_FORMAT = env_str("HOTLINE_LOG_FORMAT", "text")
        self.HOTLINE_LOG_LEVEL = env_str("HOTLINE_LOG_LEVEL", "INFO")
        self.HOTLINE_PROXY_FIX = proxy_fix_from_env()
        # /healthz is 503 (degraded) when the oldest queued job has waited longer; 0: never.
        self.HOTLINE_HEALTH_MAX_JOB_AGE = env_int("HOTLINE_HEALTH_MAX_JOB_AGE", 300)
        # `flask backup`/`restore` on PostgreSQL: the folder of pg_dump and pg_restore when PATH and
        # /usr/lib/postgresql/*/bin have none as new as the server.
        self.HOTLINE_PG_BINDIR = env_str("HOTLINE_PG_BINDIR", "")
        self.BOOTSTRAP_SERVE_LOCAL = True
        self.WTF_CSRF_TIME_LIMIT = None
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        # A signed-in session is refused this long after it was last written (a shift and a bit).
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=env_int("HOTLINE_SESSION_HOURS", 12))
        # Login throttling (services/accounts/login_throttle.py): failures within the window (seconds) per
        # user name and address together (that pair is refused), per address, and per user name
        # from all addresses (never a lock: only addresses that failed at the name are refused).
        self.HOTLINE_LOGIN_PAIR_FAILURES = env_int("HOTLINE_LOGIN_PAIR_FAILURES", 5)
        self.HOTLINE_LOGIN_ACCOUNT_FAILURES = env_int("HOTLINE_LOGIN_ACCOUNT_FAILURES", 10)
        self.HOTLINE_LOGIN_ADDRESS_FAILURES = env_int("HOTLINE_LOGIN_ADDRESS_FAILURES", 20)
        self.HOTLINE_LOGIN_WINDOW = env_int("HOTLINE_LOGIN_WINDOW", 15 * 60)
        # Files sent with a new ticket (issue 18): at most this many on the operator's intake form,
        # and photos on the citizen's /report page; each checked as the ticket page's upload is.
        self.HOTLINE_INTAKE_MAX_FILES = env_int("HOTLINE_INTAKE_MAX_FILES", 5)
        self.HOTLINE_REPORT_MAX_PHOTOS = env_int("HOTLINE_REPORT_MAX_PHOTOS", 3)
        # The largest request body the server reads, on every route (hotline/request_limit.py):
        # by default the form with the most files at their largest, plus 1 MiB; larger is 413.
        self.HOTLINE_MAX_REQUEST_BYTES = env_int(
            "HOTLINE_MAX_REQUEST_BYTES",
            max(self.HOTLINE_INTAKE_MAX_FILES, self.HOTLINE_REPORT_MAX_PHOTOS) * self.HOTLINE_ATTACHMENT_MAX_BYTES
            + 1024 * 1024,
        )
        self.MAX_CONTENT_LENGTH = self.HOTLINE_MAX_REQUEST_BYTES
        # Open311's `media_url`: fetched only from these hosts (comma-separated `host` or `host:port`,
        # e.g. the photo service of a city app); none listed: accepted and ignored.
        self.HOTLINE_OPEN311_MEDIA_HOSTS = env_str("HOTLINE_OPEN311_MEDIA_HOSTS", "")


class DevelopmentConfig(Config):
    pass


class ProductionConfig(Config):
    def __init__(self) -> None:
        super().__init__()
        if self.SECRET_KEY == "dev-only-not-secret":
            raise RuntimeError("SECRET_KEY must be set in production")
        self.SESSION_COOKIE_SECURE = env_bool("HOTLINE_SECURE_COOKIES", True)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.HOTLINE_LOG_FORMAT = env_str("HOTLINE_LOG_FORMAT", "json")


class TestingConfig(Config):
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(env_str("TEST_DATABASE_URL", "sqlite://"))
        # A test database need not survive a power cut; a disk sync per commit would add minutes.
        self.HOTLINE_SQLITE_SYNCHRONOUS = "NORMAL"
        self.REDIS_URL = env_str("TEST_REDIS_URL", "")
        self.WTF_CSRF_ENABLED = False
        self.SECRET_KEY = "testing"
        self.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
        # Never a real Twilio account from the developer's environment: tests (and the worker
        # processes they start) name their fake with TEST_TWILIO_*.
        for name in ("ACCOUNT_SID", "AUTH_TOKEN", "FROM_NUMBER", "MESSAGING_SERVICE_SID", "API_BASE_URL"):
            setattr(self, f"TWILIO_{name}", env_str(f"TEST_TWILIO_{name}", ""))
        self.HOTLINE_PUBLIC_URL = env_str("TEST_HOTLINE_PUBLIC_URL", "")
        # Attachments in a folder the tests name, never the developer's S3 (tests/s3_server.py starts one).
        self.HOTLINE_ATTACHMENTS_STORAGE = "local"


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_from_env() -> Config:
    name = env_str("HOTLINE_CONFIG", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"HOTLINE_CONFIG must be one of {', '.join(CONFIGS)}")
    return CONFIGS[name]()
