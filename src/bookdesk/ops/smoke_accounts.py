"""The smoke tests' own accounts and resource in an environment (`bookdesk smoke_setup`).

Made or brought up to date from the environment's secrets, the same variables the smoke
client reads (smoke.py), so running it again changes nothing but what differs. Safe in
production:

- the requester and the approver are ordinary accounts (no admin rights), with an
  authenticator app (TOTP) so signing in needs no inbox;
- the resource is named and described as the smoke tests' own; its only approvers are the
  members of the "Smoke test approvers" group (the smoke approver), so nobody else is
  notified of or asked to decide its requests, and anyone else's request on it waits
  unanswered until it expires. It is still listed to everyone like any active resource:
  hiding it needs a flag on Resource, which this module does not add.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Group
from django.db import transaction

from bookdesk.ops.smoke import ACCOUNTS, DEFAULT_RESOURCE_NAME, totp_key

APPROVER_GROUP = "Smoke test approvers"
RESOURCE_DESCRIPTION = (
    "Used by the automated smoke tests after every deploy. Please do not book it: requests "
    "are decided only by the smoke test account, and each run cancels its own booking."
)


@dataclass(frozen=True)
class SmokeSecrets:
    requester_email: str
    requester_password: str
    requester_totp_secret: str
    approver_email: str
    approver_password: str
    approver_totp_secret: str
    resource_name: str = DEFAULT_RESOURCE_NAME


def secrets_from_env(env: dict[str, str]) -> SmokeSecrets:
    missing = [
        f"SMOKE_{who.upper()}_{what}"
        for who in ACCOUNTS
        for what in ("EMAIL", "PASSWORD", "TOTP_SECRET")
        if not env.get(f"SMOKE_{who.upper()}_{what}")
    ]
    if missing:
        raise ValueError(f"set {', '.join(missing)} (bookdesk smoke_setup --generate makes them)")
    values = {
        f"{who}_{what.lower()}": env[f"SMOKE_{who.upper()}_{what}"]
        for who in ACCOUNTS
        for what in ("EMAIL", "PASSWORD", "TOTP_SECRET")
    }
    for who in ACCOUNTS:
        try:
            key = totp_key(values[f"{who}_totp_secret"])
        except (binascii.Error, ValueError):
            raise ValueError(f"SMOKE_{who.upper()}_TOTP_SECRET is not base32") from None
        if len(key) < 16:
            raise ValueError(f"SMOKE_{who.upper()}_TOTP_SECRET is too short (16 bytes at least)")
    resource_name = env.get("SMOKE_RESOURCE_NAME") or DEFAULT_RESOURCE_NAME
    return SmokeSecrets(**values, resource_name=resource_name)


def generate_env(domain: str = "example.org") -> str:
    """New values for an environment's secret store, as KEY=VALUE lines."""
    lines = []
    for who in ACCOUNTS:
        secret = base64.b32encode(secrets.token_bytes(20)).decode()
        lines += [
            f"SMOKE_{who.upper()}_EMAIL=smoke-{who}@{domain}",
            f"SMOKE_{who.upper()}_PASSWORD={secrets.token_urlsafe(24)}",
            f"SMOKE_{who.upper()}_TOTP_SECRET={secret}",
        ]
    return "\n".join(lines) + "\n"


def _user(*, email: str, password: str, role: str, totp_secret: str, changes: list[str]):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from bookdesk.accounts.models import User

    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(
            email, password, role=role, full_name=f"Smoke test {role} (automated)"
        )
        changes.append(f"created {email} ({role})")
    else:
        fields = []
        if user.role != role:
            user.role = role
            fields.append("role")
        if not user.is_active:
            user.is_active = True
            fields.append("is_active")
        if not user.check_password(password):
            user.set_password(password)
            fields.append("password")
        if fields:
            user.save()
            changes.append(f"updated {email}: {', '.join(fields)}")
    key_hex = totp_key(totp_secret).hex()
    devices = TOTPDevice.objects.filter(user=user)
    device = devices.filter(name="smoke").first()
    if device is None or device.key != key_hex or not device.confirmed or devices.count() > 1:
        devices.delete()
        TOTPDevice.objects.create(user=user, name="smoke", key=key_hex, confirmed=True)
        changes.append(f"set {email}'s authenticator key")
    return user


@transaction.atomic
def smoke_setup(values: SmokeSecrets) -> list[str]:
    """Make the smoke accounts and resource match ``values``; what changed, in words."""
    from bookdesk.accounts.models import Role
    from bookdesk.audit.services import audit_record
    from bookdesk.resources.models import Resource

    changes: list[str] = []
    _user(
        email=values.requester_email,
        password=values.requester_password,
        role=Role.REQUESTER,
        totp_secret=values.requester_totp_secret,
        changes=changes,
    )
    approver = _user(
        email=values.approver_email,
        password=values.approver_password,
        role=Role.APPROVER,
        totp_secret=values.approver_totp_secret,
        changes=changes,
    )
    group, created = Group.objects.get_or_create(name=APPROVER_GROUP)
    if created:
        changes.append(f"created group {APPROVER_GROUP!r}")
    if not approver.groups.filter(pk=group.pk).exists():
        approver.groups.add(group)
        changes.append(f"added {approver.email} to {APPROVER_GROUP!r}")

    wanted = {
        "kind": "equipment",
        "location": "none (automated tests)",
        "capacity": 1,
        "description": RESOURCE_DESCRIPTION,
        "is_active": True,
        "requires_approval": True,
        "pending_holds_slot": False,
        "min_duration": timedelta(minutes=15),
        "max_duration": timedelta(hours=1),
        "min_notice": timedelta(0),
        "max_advance": timedelta(days=60),
    }
    resource = Resource.objects.filter(name=values.resource_name).first()
    if resource is None:
        resource = Resource.objects.create(name=values.resource_name, **wanted)
        changes.append(f"created resource {values.resource_name!r}")
    else:
        stale = [k for k, v in wanted.items() if getattr(resource, k) != v]
        if stale:
            for key in stale:
                setattr(resource, key, wanted[key])
            resource.save()
            changes.append(f"updated resource {values.resource_name!r}: {', '.join(stale)}")
    if resource.opening_hours.exists():
        resource.opening_hours.all().delete()
        changes.append("removed the resource's opening hours (bookable around the clock)")
    if list(resource.approver_groups.all()) != [group]:
        resource.approver_groups.set([group])
        changes.append(f"the resource's only approver group is now {APPROVER_GROUP!r}")

    if changes:
        audit_record(
            action="smoke.setup",
            target=resource,
            changes=changes,
            requester=values.requester_email,
            approver=values.approver_email,
        )
    return changes
