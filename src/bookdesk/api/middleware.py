"""Keep the API's one error shape for responses made outside its handlers.

Some errors under /api/ never reach django-ninja's exception handlers: a Host header that is
not allowed (Django answers 400 before routing), a method the route does not have (ninja
answers 405 in plain text). Any error response there that is not already JSON is rewritten
to ``{"error": "<code>", "detail": ...}``, keeping its status and headers such as Allow.
"""

from __future__ import annotations

from bookdesk.api.errors import STATUS_CODES, error_response

_DETAILS = {
    400: "The request was malformed.",
    403: "You may not do that.",
    404: "Not found.",
    405: "This address does not take that method.",
    413: "The request is larger than the server accepts.",
    500: "Something went wrong on our side.",
}


class ApiErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            shaped = error_response(
                status,
                STATUS_CODES.get(status, "internal_error" if status >= 500 else "error"),
                _DETAILS.get(status, "The request could not be completed."),
            )
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    shaped[header] = response[header]
            return shaped
        return response
