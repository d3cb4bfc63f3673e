"""Who may use the Django admin's model pages: users with the admin role.

Roles, not Django permission rows, say who is an admin in Bookdesk; the OTP admin site has
already asked for a verified second factor before any of these are consulted.
"""

from __future__ import annotations


def _is_admin(request) -> bool:
    return bool(getattr(request.user, "is_admin", False))


class AdminRoleMixin:
    """Admins manage the model whether or not they hold Django model permissions."""

    def has_module_permission(self, request):
        return _is_admin(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _is_admin(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return _is_admin(request) or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return _is_admin(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _is_admin(request) or super().has_delete_permission(request, obj)


class ReadOnlyForAdminsMixin(AdminRoleMixin):
    """Admins read; nobody adds, edits or deletes here, not even a superuser (changes go
    through the services, which audit them, or the model is append-only)."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
