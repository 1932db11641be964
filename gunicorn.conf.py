"""gunicorn settings for Hotline: `gunicorn -c gunicorn.conf.py run:app` (see docs/production.md).

Everything comes from the environment, so that one file serves every machine; command-line
options override it. HOTLINE_LOG_FORMAT=json (the default with HOTLINE_CONFIG=production)
makes gunicorn's own log lines JSON too, in the app's format (hotline/logs.py). The app logs
one line per request (with request id and user id), so gunicorn's access log is off unless
GUNICORN_ACCESS_LOG=1 asks for it (then as JSON, or in gunicorn's text format).
HOTLINE_PROFILE_DIR (benchmarks only) writes a pyinstrument profile of each API intake request.
"""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
# sync: one request at a time per worker, the fastest on intake (benchmarks/intake.py); behind
# nginx, which buffers slow clients, nothing is gained from threads.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or "sync"
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 10
keepalive = 5
# A worker is replaced after this many requests (with jitter): a slow leak can never grow unbounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 5000)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1"
control_socket_disable = True  # its default path is per user: two instances on one machine would clash

_config = os.environ.get("HOTLINE_CONFIG") or "development"
_format = os.environ.get("HOTLINE_LOG_FORMAT") or ("json" if _config == "production" else "text")
_access = (os.environ.get("GUNICORN_ACCESS_LOG") or "").lower() in ("1", "true", "yes", "on")
accesslog = "-" if _access else None
errorlog = "-"
loglevel = (os.environ.get("HOTLINE_LOG_LEVEL") or "info").lower()

if _format == "json":
    # Both gunicorn loggers through the app's JSON formatter; the access record's atoms become
    # the request line's fields (hotline.logs._gunicorn_access).
    access_log_format = '%(h)s "%(r)s" %(s)s %(D)s'
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "hotline.logs.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"level": loglevel.upper(), "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
            # gunicorn logs access whenever logconfig_dict is set: the level keeps it off unless asked.
            "gunicorn.access": {"level": "INFO" if _access else "WARNING", "handlers": [], "propagate": True},
        },
    }


_profile_dir = os.environ.get("HOTLINE_PROFILE_DIR")
if _profile_dir:

    def pre_request(worker, req):
        if req.method == "POST" and req.path == "/api/v1/tickets":
            from pyinstrument import Profiler

            req.profiler = Profiler(interval=0.0005)
            req.profiler.start()

    def post_request(worker, req, environ, resp):
        profiler = getattr(req, "profiler", None)
        if profiler is not None:
            session = profiler.stop()
            os.makedirs(_profile_dir, exist_ok=True)
            worker.profiled = getattr(worker, "profiled", 0) + 1
            session.save(os.path.join(_profile_dir, f"{worker.pid}-{worker.profiled}.pyisession"))


def post_worker_init(worker):
    """The app's modules, templates and caches live as long as the worker: move them out of
    the collector's sight (gc.freeze), so that a full collection during a request scans only
    what requests made, not the whole app."""
    import gc

    gc.collect()
    gc.freeze()
