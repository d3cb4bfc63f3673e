"""gunicorn settings for Bookdesk: `gunicorn -c python:bookdesk.ops.gunicorn_conf bookdesk.wsgi`.

Everything comes from the environment (docs/configuration.md), like the app's settings.
Start it through deploy/bin/bookdesk-web, which gives /metrics a fresh multiprocess
directory; started some other way, this file makes a private one so counters still add up.
"""

from __future__ import annotations

import os
import tempfile

from bookdesk.config import env_int, env_str

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Must be set before prometheus_client is imported in this process or any worker.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bookdesk-metrics-")
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import multiprocess  # noqa: E402

from bookdesk.ops.gunicorn_logging import JsonLogger  # noqa: E402

wsgi_app = "bookdesk.wsgi:application"
bind = env_str("BIND", "127.0.0.1:8000").split(",")
workers = env_int("WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1)
# gthread: a worker waiting on the database or the mail relay still serves other requests.
worker_class = "gthread"
threads = env_int("WEB_THREADS", 4)
# A request stuck this long is killed and its worker replaced (logged at error level).
timeout = env_int("WEB_TIMEOUT", 30)
# On SIGTERM (a deploy), requests in flight get this long to finish.
graceful_timeout = env_int("WEB_GRACEFUL_TIMEOUT", 30)
keepalive = env_int("WEB_KEEPALIVE", 5)
# Recycling workers now and then bounds slow memory growth; jitter staggers the restarts.
max_requests = env_int("WEB_MAX_REQUESTS", 5000)
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0
# No access log: the app writes one JSON line per request with its request id and user.
accesslog = None
errorlog = "-"
loglevel = env_str("LOG_LEVEL", "INFO").lower()
logger_class = JsonLogger
# Workers import the app after the fork: each one opens its own database connections.
preload_app = False
proc_name = env_str("WEB_PROC_NAME", "bookdesk-web")
# gunicorn's control socket lives at one path per user; blue and green instances (and
# parallel tests) on one host would fight over it, and nothing here uses it.
control_socket_disable = True


def child_exit(server, worker):
    # A dead worker's live gauges must stop counting; its counters stay, as they should.
    multiprocess.mark_process_dead(worker.pid)
