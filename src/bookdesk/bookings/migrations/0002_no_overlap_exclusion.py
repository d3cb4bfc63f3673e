"""No overlapping slot-holding bookings per resource, enforced by PostgreSQL.

SQLite has no exclusion constraints; there the booking services check for overlaps inside
IMMEDIATE transactions. The same migration therefore does nothing on SQLite.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE bookings_booking ADD CONSTRAINT bookings_booking_no_overlap
    EXCLUDE USING gist (resource_id WITH =, tstzrange("start", "end", '[)') WITH &&)
    WHERE (holds_slot);
"""
DROP = "ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS bookings_booking_no_overlap;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
