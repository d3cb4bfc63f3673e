# A model of the "ops" app that exists only for test_migrations_check.py: the migrations
# after this one each make one change the migrations stage must judge.
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Gadget",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=50)),
                ("size", models.IntegerField(null=True)),
            ],
        ),
    ]
