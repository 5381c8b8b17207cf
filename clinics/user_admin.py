"""User accounts and their API tokens in the admin, scoped like everything else.

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
from django.utils import timezone

from clinics import lockout, tokens, two_factor
from clinics.models import ApiToken
from clinics.permissions import api_tokens_for, sees_everything, users_for

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


# --- Sign-in: lockout and two-factor, from the user list -----------------------------------


@admin.action(description="Unlock sign-in (clear failed password attempts)", permissions=["change"])
def unlock_sign_in(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    for user in queryset:
        lockout.unlock_sign_in(user)
    model_admin.message_user(request, f"Sign-in unlocked for {queryset.count()} account(s).")


@admin.action(
    description="Reset two-factor sign-in (they set up a new app next time)",
    permissions=["change"],
)
def reset_two_factor(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:
    for user in queryset:
        two_factor.reset_two_factor(user)
    model_admin.message_user(
        request, f"Two-factor sign-in reset for {queryset.count()} account(s)."
    )


OutreachUserAdmin.actions = [unlock_sign_in, reset_two_factor]


# --- API tokens ------------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by their owner (the secret is shown once); here they are seen and revoked."""

    list_display = ("name", "prefix", "user", "created_at", "expires_at", "last_used_at", "status")
    list_filter = ("revoked_at",)
    search_fields = ("name", "key_id", "user__username")
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    fields = readonly_fields
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return api_tokens_for(request.user)

    @admin.display(description="status")
    def status(self, obj: ApiToken) -> str:
        return obj.status_at(timezone.now())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoked tokens stay, so who revoked which token, and when, is kept.
        return False

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        for token in queryset:
            tokens.revoke_api_token(token, by=request.user)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")
