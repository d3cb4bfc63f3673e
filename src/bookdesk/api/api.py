"""The versioned JSON API at /api/v1, with its schema at /api/v1/openapi.json."""

from __future__ import annotations

from ninja import NinjaAPI

from bookdesk import __version__
from bookdesk.accounts.api import router as accounts_router
from bookdesk.api import errors
from bookdesk.api.auth import API_AUTH
from bookdesk.attachments.api import router as attachments_router
from bookdesk.bookings.api import router as bookings_router
from bookdesk.exports.api import router as exports_router
from bookdesk.resources.api import router as resources_router

api = NinjaAPI(
    title="Bookdesk API",
    version=f"v1 ({__version__})",
    description="Bookings, approvals, exports and uploads. Errors are always "
    '`{"error": "<code>", "detail": …}`.',
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=API_AUTH,
)
errors.install(api)

api.add_router("", accounts_router)
api.add_router("", resources_router)
api.add_router("", bookings_router)
api.add_router("", attachments_router)
api.add_router("", exports_router)
