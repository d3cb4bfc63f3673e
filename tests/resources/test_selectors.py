"""Who approves what."""

from __future__ import annotations

from django.contrib.auth.models import Group

from bookdesk.resources.models import Resource
from bookdesk.resources.selectors import (
    approvers_for,
    resources_approvable_by,
    user_may_decide,
)


def test_approvers_are_group_members_or_admins_when_no_group(hall, room, bob, carol, alice):
    assert list(approvers_for(hall)) == [bob]
    assert list(approvers_for(room)) == [carol]
    assert list(resources_approvable_by(bob)) == [hall]
    assert set(resources_approvable_by(carol)) == {hall, room}
    assert not resources_approvable_by(alice).exists()
    assert user_may_decide(bob, hall) and not user_may_decide(bob, room)
    other = Resource.objects.create(name="Other", capacity=3)
    other.approver_groups.add(Group.objects.create(name="others"))
    assert not user_may_decide(bob, other)
