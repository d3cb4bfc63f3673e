"""The app with its CSV export broken, for the smoke tests' failing case (test_smoke.py):
the export answers 500, as a release with a broken export would."""

from bookdesk.wsgi import application as bookdesk


def application(environ, start_response):
    if environ.get("PATH_INFO", "").endswith("/exports/bookings.csv"):
        start_response("500 Internal Server Error", [("Content-Type", "application/json")])
        return [b'{"error": "server_error", "detail": "broken on purpose"}']
    return bookdesk(environ, start_response)
