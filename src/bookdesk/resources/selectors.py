"""Reads about resources: who approves what, and which resources a user sees."""

from __future__ import annotations

from django.db.models import QuerySet

from bookdesk.accounts.models import User
from bookdesk.accounts.types import AnyUser
from bookdesk.resources.models import Resource


def approvers_for(resource: Resource) -> QuerySet[User]:
    """Active users who may decide requests for ``resource``.

    Members of its approver groups; when it has none, the admins, so that no request is
    left without anyone to decide it.
    """
    users = User.objects.filter(is_active=True)
    group_ids = list(resource.approver_groups.values_list("pk", flat=True))
    if group_ids:
        return users.filter(groups__in=group_ids).distinct().order_by("email")
    return users.filter(role="admin").order_by("email")


def resources_approvable_by(user: AnyUser) -> QuerySet[Resource]:
    if not user.is_authenticated:
        return Resource.objects.none()
    if user.is_admin:
        return Resource.objects.all()
    group_ids = user.groups.values("pk")
    return Resource.objects.filter(
        pk__in=Resource.approver_groups.through.objects.filter(group_id__in=group_ids).values(
            "resource_id"
        )
    )


def user_may_decide(user: AnyUser, resource: Resource) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin:
        return True
    if not resource.approver_groups.exists():
        return False
    return user.groups.filter(pk__in=resource.approver_groups.values("pk")).exists()


def resources_for(user: User, *, include_inactive: bool = False) -> QuerySet[Resource]:
    """Resources a user can see: everyone sees active ones; admins may ask for all."""
    qs = Resource.objects.all()
    if not (include_inactive and user.is_admin):
        qs = qs.filter(is_active=True)
    return qs
