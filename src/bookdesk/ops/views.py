"""/metrics in Prometheus text format, for allowed networks or a bearer token.

Under gunicorn (PROMETHEUS_MULTIPROC_DIR set by deploy/bin/bookdesk-web) every worker writes
its counters to files in that directory and whichever worker answers the scrape adds them
all up, so a scrape sees the whole server, not one worker. The background worker keeps its
own directory (WORKER_METRICS_DIR) so its counters, such as emails sent, appear here too.
"""

from __future__ import annotations

import glob
import os

import prometheus_client
from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from prometheus_client import CollectorRegistry, multiprocess

from bookdesk.ops.access import operator_caller
from bookdesk.ops.collectors import SCRAPE_TIME_NAMES, ScrapeTimeCollector


class _MultiProcessFiles:
    """prometheus_client's merge of the per-process files, over one or more directories."""

    def __init__(self, directories):
        self.directories = directories

    def collect(self):
        files = []
        for directory in self.directories:
            files.extend(glob.glob(os.path.join(directory, "*.db")))
        return multiprocess.MultiProcessCollector.merge(files, accumulate=True)


class _Without:
    """A collector's metrics minus the ones computed at scrape time (no duplicate names)."""

    def __init__(self, source, names):
        self.source = source
        self.names = names

    def collect(self):
        for metric in self.source.collect():
            if metric.name not in self.names:
                yield metric


def _process_metrics():
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return prometheus_client.REGISTRY
    directories = [directory]
    worker = settings.WORKER_METRICS_DIR
    if worker and os.path.isdir(worker) and os.path.realpath(worker) != os.path.realpath(directory):
        directories.append(worker)
    return _MultiProcessFiles(directories)


def metrics_registry() -> CollectorRegistry:
    # auto_describe=False: the collectors are asked once, at scrape time, never at register.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Without(_process_metrics(), SCRAPE_TIME_NAMES))
    registry.register(ScrapeTimeCollector())
    return registry


def metrics(request) -> HttpResponse:
    if not operator_caller(request):
        return HttpResponseForbidden(
            "metrics are not available from here\n", content_type="text/plain"
        )
    body = prometheus_client.generate_latest(metrics_registry())
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
