"""API tokens expire: existing ones get API_TOKEN_LIFETIME_DAYS' default from their creation."""

from __future__ import annotations

from datetime import timedelta

from django.db import migrations, models


def set_expiry(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.filter(expires_at__isnull=True).only("pk", "created_at"):
        ApiToken.objects.filter(pk=token.pk).update(
            expires_at=token.created_at + timedelta(days=90)
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_normalise_emails")]

    operations = [
        migrations.AddField(
            model_name="apitoken", name="expires_at", field=models.DateTimeField(null=True)
        ),
        migrations.RunPython(set_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken", name="expires_at", field=models.DateTimeField()
        ),
    ]
