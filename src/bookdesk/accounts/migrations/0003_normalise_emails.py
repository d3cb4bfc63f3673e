"""Store every address in the one form (accounts/addresses.py: NFKC, case folded).

Addresses were stored lower-cased, which is the same form for plain ASCII; others are
rewritten. Should two rows fold to one address, both are left as they are and named in
the log: merging accounts is a person's decision.
"""

from __future__ import annotations

import unicodedata

from django.db import migrations


def _normalise(raw: str) -> str:
    # A copy of addresses.normalise_email as it is today: migrations must not change meaning
    # when the code does.
    text = unicodedata.normalize("NFKC", raw or "")
    return unicodedata.normalize("NFKC", text.casefold()).strip()[:254]


def normalise(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    taken = set(User.objects.values_list("email", flat=True))
    for user in User.objects.all().only("pk", "email"):
        wanted = _normalise(user.email)
        if wanted == user.email:
            continue
        if wanted in taken:
            print(f"\n  accounts: {user.email!r} folds onto an existing address; left as is")
            continue
        taken.add(wanted)
        User.objects.filter(pk=user.pk).update(email=wanted)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_second_factor_lockout_tokens")]

    operations = [migrations.RunPython(normalise, migrations.RunPython.noop)]
