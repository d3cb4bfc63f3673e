# A migration no database has applied: /readyz must notice it (test_readiness.py).
from django.db import migrations


class Migration(migrations.Migration):
    operations = []
