"""Create the database cache table as part of `migrate`.

Without Redis, the cache (readiness probe results, throttles) lives in a database table.
Django makes that table only with `createcachetable`, which every deploy path would have to
remember; as a migration it exists wherever the schema does.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Does nothing when the configured cache is not the database (e.g. REDIS_URL is set),
    # and skips a table that already exists.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
