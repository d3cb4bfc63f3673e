from tests.bookings.conftest import approvers, hall, room  # noqa: F401 - shared fixtures
