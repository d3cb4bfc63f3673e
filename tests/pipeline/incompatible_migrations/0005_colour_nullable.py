# Safe while the old release runs: it neither reads nor writes the new, nullable column.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ops", "0004_weight_not_null")]
    operations = [
        migrations.AddField(
            model_name="gadget", name="colour", field=models.CharField(max_length=20, null=True)
        )
    ]
