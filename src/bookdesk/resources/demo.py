"""Demo resources and bookings (filled in by the bookings work)."""


def seed_demo(users: dict) -> None:
    return None
