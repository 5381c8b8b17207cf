"""Admin for data-sharing agreements (admins record them) and the access log (read only)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Field, Q, QuerySet
from django.http import HttpRequest

from clinics.admin import AuditedAdmin, ScopedAdmin, own_organisation_id
from clinics.domain import DomainError
from clinics.governance import AccessLogEntry, DataSharingAgreement
from clinics.models import Organisation
from clinics.permissions import agreements_for, organisation_ids_for, sees_everything
from clinics.services import check_agreement_authority, record_sharing_agreement


def access_log_for(user: Any) -> QuerySet[AccessLogEntry]:
    """Entries made by the user's organisation's staff or naming one of its patients."""
    entries = AccessLogEntry.objects.all()
    if sees_everything(user):
        return entries
    if not user.has_perm("clinics.view_accesslogentry"):
        return entries.none()
    own = organisation_ids_for(user)
    return entries.filter(Q(organisation_id__in=own) | Q(patient__organisation_id__in=own))


@admin.register(DataSharingAgreement)
class DataSharingAgreementAdmin(AuditedAdmin):
    scope = staticmethod(agreements_for)
    list_display = (
        "sharing_organisation",
        "receiving_organisation",
        "reciprocal",
        "records",
        "starts_on",
        "ends_on",
    )
    list_filter = ("records", "reciprocal")
    search_fields = ("purpose", "reference")
    ordering = ("-starts_on", "id")
    readonly_fields = ("recorded_by", "recorded_at")

    def formfield_for_foreignkey(
        self, db_field: Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "sharing_organisation" and not sees_everything(request.user):
            kwargs["queryset"] = Organisation.objects.filter(pk=own_organisation_id(request.user))
        elif db_field.name == "receiving_organisation":
            # Any organisation may receive; the choice is not limited to one's own.
            kwargs["queryset"] = Organisation.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: forms.Form, change: bool) -> None:
        reason = form.cleaned_data.get("change_reason", "") or (
            "Changed in the admin" if change else "Recorded in the admin"
        )
        record_sharing_agreement(obj, by=request.user, reason=reason)

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        user = request.user

        class AuthorityCheckedForm(form):  # type: ignore[misc, valid-type]
            def _post_clean(self) -> None:
                super()._post_clean()
                if self.errors:
                    return
                try:
                    check_agreement_authority(self.instance, user)
                except DomainError as error:
                    for field, message in error.extra.get("fields", {}).items():
                        self.add_error(field, message)

        return AuthorityCheckedForm


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ScopedAdmin):
    """The access log: read only for everyone, superusers included."""

    scope = staticmethod(access_log_for)
    list_display = ("at", "username", "action", "via", "patient_id", "ip_address", "path")
    list_filter = ("action", "via")
    search_fields = ("username", "=patient__id")
    ordering = ("-id",)
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [field.name for field in AccessLogEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
