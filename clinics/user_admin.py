"""User accounts in the admin, scoped like everything else.

Django's own user admin shows every account and lets anyone with `change_user` tick
"superuser". Here an organisation's administrator sees only the accounts of their own staff and
can never grant superuser status or permissions directly: roles (groups) come from the staff
member's role, set on the staff record.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from clinics.permissions import sees_everything, users_for

User = get_user_model()

# Fields only a superuser may change: together they decide what an account can do.
PRIVILEGE_FIELDS = ("is_superuser", "groups", "user_permissions")


class OutreachUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "is_active", "last_login")
    list_filter = ("is_active", "is_staff", "groups")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return users_for(request.user).prefetch_related("groups")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if sees_everything(request.user):
            return fields
        return (*fields, *PRIVILEGE_FIELDS, "last_login", "date_joined")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Accounts are deactivated, never deleted: history rows name them.
        return sees_everything(request.user) and super().has_delete_permission(request, obj)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, OutreachUserAdmin)
