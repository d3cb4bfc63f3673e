"""Metrics computed when /metrics is read, rather than kept in a process.

Why at scrape time: under gunicorn each worker keeps its own copy of a gauge, and the
outbox is worked by another process altogether. A gauge set by one of them would be stale
or absent in the others' files, and stays behind when a process dies. The database and the
disk are the truth for these figures, and every worker reads the same truth, so whichever
worker answers the scrape reports correctly. The cost is one indexed query and one statfs
per scrape (see bench/results/metrics.md).
"""

from __future__ import annotations

import shutil

import structlog
from django.conf import settings
from prometheus_client.core import GaugeMetricFamily

from bookdesk.attachments.storage import uploads_root_checked

log = structlog.get_logger(__name__)

# Names produced here; any per-process copy of them is dropped from the export.
SCRAPE_TIME_NAMES = frozenset(
    {
        "bookdesk_build_info",
        "bookdesk_outbox_pending",
        "bookdesk_outbox_oldest_age_seconds",
        "bookdesk_uploads_used_bytes",
        "bookdesk_uploads_free_bytes",
    }
)


class ScrapeTimeCollector:
    def collect(self):
        build = GaugeMetricFamily(
            "bookdesk_build_info",
            "The running release; always 1.",
            labels=["version", "commit"],
        )
        build.add_metric([settings.VERSION, settings.COMMIT], 1)
        yield build
        yield from self._uploads()
        yield from self._outbox()

    def _uploads(self):
        if settings.UPLOADS_STORAGE == "s3":
            return  # no file system to measure: a bucket does not fill up
        try:
            usage = shutil.disk_usage(uploads_root_checked())
        except OSError as exc:
            # No sample rather than a made-up zero: "absent" is what the alert rules test.
            log.warning("uploads disk usage unavailable", error=str(exc))
            return
        yield GaugeMetricFamily(
            "bookdesk_uploads_used_bytes",
            "Bytes used on the file system holding UPLOADS_ROOT.",
            value=usage.used,
        )
        yield GaugeMetricFamily(
            "bookdesk_uploads_free_bytes",
            "Bytes available to the app on the file system holding UPLOADS_ROOT.",
            value=usage.free,
        )

    def _outbox(self):
        from bookdesk.notifications.selectors import outbox_stats

        try:
            backlog = outbox_stats()
        except Exception as exc:  # a scrape must survive a database outage
            log.warning("outbox backlog unavailable", error=str(exc))
            return
        yield GaugeMetricFamily(
            "bookdesk_outbox_pending",
            "Emails waiting in the outbox (pending or being sent).",
            value=backlog.pending,
        )
        yield GaugeMetricFamily(
            "bookdesk_outbox_oldest_age_seconds",
            "Age of the oldest email waiting in the outbox; 0 when none waits.",
            value=backlog.oldest_age_seconds,
        )
