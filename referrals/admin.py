"""Admin for the destination directory, referrals and the chasing log."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Model, QuerySet
from django.forms import BaseFormSet
from django.http import HttpRequest
from django.utils import timezone

from clinics.admin import (
    AuditedAdmin,
    OrganisationOwnedMixin,
    Scope,
    ScopedAdmin,
    ScopedInlineMixin,
    apply_to_each,
)
from outreach.admin import OUTREACH_CHOICE_SCOPES
from referrals.models import Destination, Referral, ReferralChase, ReferralRule
from referrals.permissions import chases_for, destinations_for, referrals_for
from referrals.services import accept_referral, send_referral

REFERRALS_CHOICE_SCOPES: dict[type[Model], Scope] = {
    **OUTREACH_CHOICE_SCOPES,
    Destination: destinations_for,
    Referral: referrals_for,
}


@admin.register(Destination)
class DestinationAdmin(ScopedAdmin):
    scope = staticmethod(destinations_for)
    list_display = ("name", "category", "route", "area", "response_target_days", "is_active")
    list_filter = ("category", "route", "is_active")
    search_fields = ("name", "provider", "area", "postcode")
    ordering = ("name",)
    readonly_fields = ("updated_at",)
    # Directory links are typed without a scheme; assume https rather than http.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "category", "provider", "description", "is_active")}),
        ("How to refer", {"fields": ("route", "email", "phone", "url", "response_target_days")}),
        ("Where and who", {"fields": ("address", "postcode", "area", "eligibility_notes")}),
        ("Record", {"fields": ("updated_at",)}),
    )


class OverdueFilter(admin.SimpleListFilter):
    title = "response"
    parameter_name = "response"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("overdue", "Overdue")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "overdue":
            return queryset.overdue(timezone.localdate())
        return queryset


class ReferralChaseInline(ScopedInlineMixin, admin.TabularInline):
    """Each attempt to find out what happened; the person chasing is whoever saves it."""

    model = ReferralChase
    scope = staticmethod(chases_for)
    choice_scopes = REFERRALS_CHOICE_SCOPES
    fields = ("chased_at", "channel", "outcome", "notes", "chased_by")
    readonly_fields = ("chased_by",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("chased_by")

    def formfield_for_dbfield(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "chased_at" and field is not None:
            # Not an initial value of "now": an untouched extra row would then look changed
            # when the clock moves on, and fail validation for its empty channel and outcome.
            field.required = False
            field.help_text = "Leave empty for now."
        return field


@admin.register(Referral)
class ReferralAdmin(OrganisationOwnedMixin, AuditedAdmin):
    scope = staticmethod(referrals_for)
    choice_scopes = REFERRALS_CHOICE_SCOPES
    str_select_related = ("destination",)
    list_display = (
        "reference",
        "patient",
        "destination",
        "priority",
        "status",
        "due_date",
        "sent_at",
    )
    list_filter = ("status", "priority", OverdueFilter, "destination__category")
    list_select_related = ("patient", "destination", "organisation")
    search_fields = (
        "patient__preferred_name",
        "patient__legal_name",
        "=patient__nhs_number",
        "destination__name",
    )
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    autocomplete_fields = (
        "patient",
        "destination",
        "source_session",
        "source_booking",
        "source_outcome",
        "previous_referral",
    )
    readonly_fields = (
        "consent_recorded_by",
        "consent_recorded_at",
        "due_date",
        "sent_at",
        "responded_at",
        "attended_at",
        "closed_at",
        "rejection_reason",
        "created_at",
        "updated_at",
    )
    inlines = (ReferralChaseInline,)
    actions = ("mark_sent", "mark_accepted")
    fieldsets = (
        ("Referral", {"fields": ("patient", "destination", "priority", "reason", "referrer")}),
        (
            "Where it came from",
            {"fields": ("source_session", "source_booking", "source_outcome", "previous_referral")},
        ),
        (
            "Consent to share",
            {
                "fields": (
                    "consent_to_share",
                    "consent_method",
                    "consent_recorded_by",
                    "consent_recorded_at",
                )
            },
        ),
        (
            "Progress",
            {
                "fields": (
                    "status",
                    "due_date",
                    "sent_at",
                    "responded_at",
                    "appointment_at",
                    "attended_at",
                    "closed_at",
                    "rejection_reason",
                    "outcome_notes",
                )
            },
        ),
        ("Record", {"fields": ("organisation", "created_at", "updated_at")}),
    )

    @admin.display(description="referral", ordering="id")
    def reference(self, obj: Referral) -> str:
        return f"#{obj.pk}"

    def get_readonly_fields(self, request: HttpRequest, obj: Referral | None = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != Referral.Status.DRAFT:
            # Once sent, the consent it was sent on is part of the record.
            fields += ("consent_to_share", "consent_method")
        return fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"referrer": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(
        self, request: HttpRequest, obj: Referral, form: forms.Form, change: bool
    ) -> None:
        if obj.status == Referral.Status.DRAFT:
            if obj.consent_to_share and obj.consent_recorded_at is None:
                obj.consent_recorded_at = timezone.now()
                obj.consent_recorded_by = request.user
            elif not obj.consent_to_share:
                obj.consent_recorded_at = None
                obj.consent_recorded_by = None
        super().save_model(request, obj, form, change)

    def save_formset(
        self, request: HttpRequest, form: forms.Form, formset: BaseFormSet, change: bool
    ) -> None:
        if formset.model is not ReferralChase:
            super().save_formset(request, form, formset, change)
            return
        for chase in formset.save(commit=False):
            if chase.pk is None:
                chase.chased_by = request.user
            if chase.chased_at is None:
                chase.chased_at = timezone.now()
            chase.save()
        for chase in formset.deleted_objects:
            chase.delete()
        formset.save_m2m()

    def _apply(self, request: HttpRequest, queryset: QuerySet, service: Any, *, done: str) -> None:
        # The same named services as the API, so the person is told what happens next here too.
        apply_to_each(
            self,
            request,
            queryset.select_related("destination", "patient", "organisation"),
            lambda referral: service(referral, by=request.user),
            done=done,
        )

    @admin.action(description="Mark sent", permissions=["change"])
    def mark_sent(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, send_referral, done="Marked sent")

    @admin.action(description="Mark accepted", permissions=["change"])
    def mark_accepted(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, accept_referral, done="Marked accepted")


@admin.register(ReferralChase)
class ReferralChaseAdmin(ScopedAdmin):
    scope = staticmethod(chases_for)
    choice_scopes = REFERRALS_CHOICE_SCOPES
    list_display = ("referral", "chased_at", "channel", "outcome", "chased_by")
    list_filter = ("channel", "outcome")
    list_select_related = ("referral__destination", "chased_by")
    search_fields = ("referral__patient__preferred_name", "referral__destination__name")
    date_hierarchy = "chased_at"
    ordering = ("-chased_at", "-id")
    autocomplete_fields = ("referral",)
    readonly_fields = ("chased_by",)

    def save_model(
        self, request: HttpRequest, obj: ReferralChase, form: forms.Form, change: bool
    ) -> None:
        if not change:
            obj.chased_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ReferralRule)
class ReferralRuleAdmin(admin.ModelAdmin):
    """Which results suggest which referrals: clinical leads change rows, not code."""

    list_display = ("service_code", "result", "destination_category", "priority", "is_active")
    list_filter = ("destination_category", "is_active")
    search_fields = ("service_code", "reason")
