# NOT NULL with only a Python-side default: the old release's INSERTs, which do not name the
# column, fail once Django drops the temporary database default.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ops", "0003_rename_name")]
    operations = [
        migrations.AddField(
            model_name="gadget", name="weight", field=models.IntegerField(default=0)
        )
    ]
