"""Load demo data for a laptop: three accounts, and what other apps add. Safe to repeat."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bookdesk.accounts.models import Role, User

DEMO_USERS = [
    ("admin@example.com", "Ada Admin", Role.ADMIN),
    ("approver@example.com", "Abe Approver", Role.APPROVER),
    ("requester@example.com", "Rita Requester", Role.REQUESTER),
]


class Command(BaseCommand):
    help = "Create demo accounts and sample data (development only; idempotent)."

    def handle(self, *args, **options):
        if settings.ENVIRONMENT != "development":
            raise CommandError(f"demo data is refused in {settings.ENVIRONMENT}")
        with transaction.atomic():
            users = {}
            for email, name, role in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    email=email, defaults={"full_name": name, "role": role}
                )
                if created:
                    user.set_password(settings.DEMO_PASSWORD)
                    user.save()
                users[role.value] = user
            from bookdesk.ops.demo import seed_demo

            seed_demo(users)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
