"""The bookings and resources endpoints are in the published OpenAPI schema."""

from __future__ import annotations


def test_schema_lists_the_booking_and_resource_endpoints(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path, method in [
        ("/api/v1/resources", "get"),
        ("/api/v1/resources", "post"),
        ("/api/v1/resources/{resource_id}", "patch"),
        ("/api/v1/availability", "get"),
        ("/api/v1/bookings", "post"),
        ("/api/v1/bookings", "get"),
        ("/api/v1/bookings/{booking_id}", "get"),
        ("/api/v1/bookings/{booking_id}/approve", "post"),
        ("/api/v1/bookings/{booking_id}/reject", "post"),
        ("/api/v1/bookings/{booking_id}/cancel", "post"),
        ("/api/v1/bookings/decide", "post"),
        ("/api/v1/blackouts", "post"),
    ]:
        assert method in paths.get(path, {}), (path, method, sorted(paths))
    resource = schema["components"]["schemas"]["ResourceOut"]["properties"]
    assert {"id", "name", "timezone", "capacity", "requires_approval"} <= set(resource)
    booking_in = schema["components"]["schemas"]["BookingIn"]["properties"]
    assert {"resource", "start", "end", "title", "purpose", "attendees"} <= set(booking_in)
