# Safe: NOT NULL, but with a default in the database, which the old release's INSERTs use.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ops", "0005_colour_nullable")]
    operations = [
        migrations.AddField(
            model_name="gadget", name="count", field=models.IntegerField(db_default=1)
        )
    ]
