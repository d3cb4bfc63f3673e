"""gunicorn's own messages (worker boots, timeouts) as the same JSON lines as the app's."""

from __future__ import annotations

import os

from gunicorn.glogging import Logger

from bookdesk.core.logging import configure_logging


class JsonLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        # gunicorn attached plain-text handlers; route its records to the root handler
        # instead, which renders JSON (or readable lines on a laptop) and counts them.
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True
        deployed = os.environ.get("BOOKDESK_ENV", "development") in {"staging", "production"}
        fmt = os.environ.get("LOG_FORMAT") or ("json" if deployed else "console")
        configure_logging(level=cfg.loglevel.upper(), fmt=fmt)
