"""Admin for series, sessions and their rota, bookings, outcomes, the waiting list and messages.

Status changes are admin actions that call the services; a change form never edits a status.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Field, Model, QuerySet
from django.forms import BaseFormSet, BaseInlineFormSet
from django.http import HttpRequest

from clinics.admin import (
    CLINICS_CHOICE_SCOPES,
    AuditedAdmin,
    ChangeReasonForm,
    OrganisationOwnedMixin,
    ReadOnlyStatusMixin,
    Scope,
    ScopedAdmin,
    ScopedInlineMixin,
    apply_to_each,
    mask_contact,
)
from clinics.domain import DomainError
from clinics.permissions import scope_to_organisation
from outreach.messaging.inbound import mark_reply_handled
from outreach.models import (
    Booking,
    InboundMessage,
    Message,
    MessageTemplate,
    OutreachSession,
    SessionSeries,
    StaffAssignment,
    VisitOutcome,
    WaitlistEntry,
)
from outreach.permissions import (
    bookings_for,
    messages_for,
    outcomes_for,
    replies_for,
    series_for,
    sessions_for,
    waitlist_for,
)
from outreach.services import book_slot, check_clashes, check_in, mark_no_show, move_session

OUTREACH_CHOICE_SCOPES: dict[type[Model], Scope] = {
    **CLINICS_CHOICE_SCOPES,
    SessionSeries: series_for,
    OutreachSession: sessions_for,
    Booking: bookings_for,
    VisitOutcome: outcomes_for,
}

CLOSED_SESSION_STATUSES = (OutreachSession.Status.CANCELLED, OutreachSession.Status.COMPLETED)


def staff_assignments_for(user: Any) -> QuerySet[StaffAssignment]:
    return scope_to_organisation(
        StaffAssignment.objects.all(), user, field="session__organisation", person_level=False
    )


def domain_error_to_form(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the form fields it names, or above the form."""
    aliases = {"service": "service_type"}
    placed = False
    for name, message in error.extra.get("fields", {}).items():
        name = aliases.get(name, name)
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, error.detail)


@admin.register(SessionSeries)
class SessionSeriesAdmin(OrganisationOwnedMixin, ScopedAdmin):
    scope = staticmethod(series_for)
    choice_scopes = OUTREACH_CHOICE_SCOPES
    list_display = ("name", "venue", "mobile_unit", "start_time", "end_time", "is_active")
    list_filter = ("is_active", "booking_mode", "audience")
    list_select_related = ("venue", "mobile_unit", "organisation")
    search_fields = ("name", "venue__name")
    ordering = ("name",)
    filter_horizontal = ("services", "staff")
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("organisation", "name", "venue", "mobile_unit", "is_active")}),
        (
            "When",
            {
                "fields": (
                    "weekdays",
                    "interval_weeks",
                    "start_date",
                    "until_date",
                    "occurrence_limit",
                    "start_time",
                    "end_time",
                ),
                "description": (
                    "Times are London wall-clock times. Changes here shape the sessions created "
                    "from now on; sessions already planned keep their own details."
                ),
            },
        ),
        (
            "Bookings",
            {
                "fields": (
                    "booking_mode",
                    "slot_minutes",
                    "lanes",
                    "walk_in_share_percent",
                    "audience",
                    "services",
                    "staff",
                )
            },
        ),
        ("Record", {"fields": ("created_at",)}),
    )


class OutreachSessionForm(ChangeReasonForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if not starts_at or not ends_at or ends_at <= starts_at:
            return cleaned  # the end-after-start constraint reports this one
        unit, lanes = cleaned.get("mobile_unit"), cleaned.get("lanes")
        if unit is not None and lanes and lanes > unit.capacity:
            self.add_error("lanes", f"{unit.name} can see {unit.capacity} people at once.")
        try:
            check_clashes(
                unit_id=unit.pk if unit else None,
                staff_ids=[],
                starts_at=starts_at,
                ends_at=ends_at,
                exclude=self.instance.pk,
            )
        except DomainError as error:
            self.add_error("mobile_unit", error.detail)
        if self.instance.pk:
            booked = self.instance.bookings.active().filter(lane__isnull=False)
            if booked.exclude(starts_at__gte=starts_at, ends_at__lte=ends_at).exists():
                self.add_error(
                    None, "Some bookings would fall outside these hours: move them first."
                )
            if lanes and booked.filter(lane__gt=lanes).exists():
                self.add_error("lanes", "Bookings use lanes that would no longer exist.")
        return cleaned


class StaffAssignmentFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        session = self.instance
        if (
            session.starts_at is None
            or session.ends_at is None
            or session.ends_at <= session.starts_at
            or session.status == OutreachSession.Status.CANCELLED
        ):
            return
        staff_ids = [
            form.cleaned_data["staff"].pk
            for form in self.forms
            if getattr(form, "cleaned_data", {}).get("staff")
            and not form.cleaned_data.get("DELETE")
        ]
        # Everyone left on the rota moves with the session, so all are checked, not only
        # the new rows: the exclusion constraint would otherwise refuse the save with a 500.
        try:
            check_clashes(
                unit_id=None,
                staff_ids=staff_ids,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                exclude=session.pk,
            )
        except DomainError as error:
            raise ValidationError(error.detail) from error


class StaffAssignmentInline(ScopedInlineMixin, admin.TabularInline):
    """The rota. Times and liveness copy the session's and are set on save, never typed."""

    model = StaffAssignment
    formset = StaffAssignmentFormSet
    scope = staticmethod(staff_assignments_for)
    choice_scopes = OUTREACH_CHOICE_SCOPES
    fields = ("staff", "starts_at", "ends_at", "is_live")
    readonly_fields = ("starts_at", "ends_at", "is_live")
    extra = 0
    verbose_name = "staff on the rota"
    verbose_name_plural = "rota"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("staff__user", "staff__organisation")

    def formfield_for_foreignkey(
        self, db_field: Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "staff" and field is not None:
            field.queryset = field.queryset.filter(is_active=True)
        return field

    def _session_open(self, obj: OutreachSession | None) -> bool:
        return obj is None or obj.status not in CLOSED_SESSION_STATUSES

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._session_open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._session_open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._session_open(obj) and super().has_delete_permission(request, obj)


class BookingInline(ScopedInlineMixin, admin.TabularInline):
    """The session's bookings, to read; each links to its own page and actions."""

    model = Booking
    scope = staticmethod(bookings_for)
    fields = ("starts_at", "lane", "patient", "service_type", "status", "source")
    readonly_fields = fields
    ordering = ("starts_at", "lane", "id")
    show_change_link = True
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("patient", "service_type")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutreachSession)
class OutreachSessionAdmin(OrganisationOwnedMixin, AuditedAdmin):
    scope = staticmethod(sessions_for)
    choice_scopes = OUTREACH_CHOICE_SCOPES
    form = OutreachSessionForm
    list_display = ("name", "starts_at", "ends_at", "venue", "mobile_unit", "status")
    list_filter = ("status", "booking_mode", "audience")
    list_select_related = ("venue", "mobile_unit", "organisation")
    search_fields = ("name", "venue__name", "venue__town")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at", "-id")
    show_full_result_count = False
    filter_horizontal = ("services",)
    readonly_fields = (
        "cancellation_reason",
        "series",
        "occurrence_date",
        "detached",
        "created_at",
        "updated_at",
    )
    inlines = (StaffAssignmentInline, BookingInline)
    actions = ("confirm",)
    fieldsets = (
        ("Where and when", {"fields": ("name", "venue", "mobile_unit", "starts_at", "ends_at")}),
        (
            "Bookings",
            {
                "fields": (
                    "services",
                    "booking_mode",
                    "slot_minutes",
                    "lanes",
                    "walk_in_share_percent",
                    "minimum_notice_minutes",
                    "audience",
                )
            },
        ),
        ("Status", {"fields": ("status", "cancellation_reason", "notes")}),
        ("Series", {"fields": ("series", "occurrence_date", "detached")}),
        ("Record", {"fields": ("organisation", "created_at", "updated_at")}),
    )

    def get_inlines(self, request: HttpRequest, obj: OutreachSession | None) -> Any:
        # A session being added has no bookings yet.
        return self.inlines if obj is not None else (StaffAssignmentInline,)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A cancelled or completed session is a record of what happened: it stays as it was.
        if obj is not None and obj.status in CLOSED_SESSION_STATUSES:
            return False
        return super().has_change_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: OutreachSession, form: forms.Form, change: bool
    ) -> None:
        edited = set(form.changed_data) - {"notes", "change_reason"}
        if change and obj.series_id and edited:
            # Edited on its own: later changes to the whole series must leave it alone.
            obj.detached = True
        super().save_model(request, obj, form, change)

    def save_formset(
        self, request: HttpRequest, form: forms.Form, formset: BaseFormSet, change: bool
    ) -> None:
        if formset.model is not StaffAssignment:
            super().save_formset(request, form, formset, change)
            return
        session = form.instance
        for assignment in formset.save(commit=False):
            assignment.starts_at = session.starts_at
            assignment.ends_at = session.ends_at
            assignment.is_live = session.status != OutreachSession.Status.CANCELLED
            assignment.save()
        for assignment in formset.deleted_objects:
            assignment.delete()
        formset.save_m2m()

    def save_related(
        self, request: HttpRequest, form: forms.Form, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        if change:
            # The rota copies the session's times for its exclusion constraint; the formset
            # clean has already checked the moved times against everyone's other sessions.
            session = form.instance
            StaffAssignment.objects.filter(session=session).update(
                starts_at=session.starts_at, ends_at=session.ends_at
            )

    @admin.action(description="Confirm the selected sessions", permissions=["change"])
    def confirm(self, request: HttpRequest, queryset: QuerySet) -> None:
        apply_to_each(
            self,
            request,
            queryset,
            lambda session: move_session(
                session,
                OutreachSession.Status.CONFIRMED,
                by=request.user,
                reason="Confirmed in the admin",
            ),
            done="Confirmed",
        )


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(ScopedAdmin):
    """The rota across sessions, to read. It is planned on each session's page."""

    scope = staticmethod(staff_assignments_for)
    choice_scopes = OUTREACH_CHOICE_SCOPES
    list_display = ("staff", "session", "starts_at", "ends_at", "is_live")
    list_filter = ("is_live",)
    list_select_related = ("staff__user", "staff__organisation", "session")
    search_fields = ("staff__user__first_name", "staff__user__last_name", "session__name")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at", "id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BookingAddForm(forms.ModelForm):
    """Books through `book_slot`, so the admin obeys the rules every booking screen obeys.

    The service makes the booking during validation, so that its refusals (not eligible,
    slot taken, session closed) come back as form errors. That is only safe because the
    booking admin has no inlines: nothing else can fail after this write, and the admin's
    view is atomic in any case.
    """

    booked_by: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "starts_at" in self.fields:
            self.fields["starts_at"].required = False
            self.fields["starts_at"].help_text = "Leave empty for the next free slot."
        if "lane" in self.fields:
            self.fields["lane"].help_text = "Leave empty for any free lane."

    def _post_clean(self) -> None:
        if self.errors:
            return
        data = self.cleaned_data
        try:
            self.instance, _ = book_slot(
                patient=data["patient"],
                session=data["session"],
                service=data["service_type"],
                by=self.booked_by,
                starts_at=data.get("starts_at"),
                lane=data.get("lane"),
                source=data.get("source") or Booking.Source.BOOKED,
                notes=data.get("notes", ""),
            )
        except DomainError as error:
            domain_error_to_form(self, error)


@admin.register(Booking)
class BookingAdmin(AuditedAdmin):
    scope = staticmethod(bookings_for)
    choice_scopes = OUTREACH_CHOICE_SCOPES
    str_select_related = ("patient", "service_type")
    list_display = (
        "starts_at",
        "patient",
        "service_type",
        "session",
        "lane",
        "status",
        "confirmed_at",
        "source",
    )
    list_filter = ("status", "source", "service_type")
    list_select_related = ("patient", "service_type", "session")
    search_fields = (
        "patient__preferred_name",
        "patient__legal_name",
        "=patient__nhs_number",
        "session__name",
    )
    date_hierarchy = "starts_at"
    ordering = ("-starts_at", "-id")
    show_full_result_count = False
    autocomplete_fields = ("session", "patient")
    actions = ("mark_arrived", "mark_did_not_attend")
    add_fieldsets = (
        (None, {"fields": ("session", "patient", "service_type", "starts_at", "lane")}),
        ("About", {"fields": ("source", "notes")}),
    )
    # Times, lane and people change through rescheduling and cancelling, which keep the
    # waiting list, reminders and history in step; here only the notes are edited.
    change_readonly_fields = (
        "session",
        "patient",
        "service_type",
        "starts_at",
        "ends_at",
        "lane",
        "source",
        "arrived_at",
        "cancelled_by",
        "cancellation_reason",
        "confirmed_at",
        "confirmed_via",
        "booked_by",
        "idempotency_key",
        "rescheduled_from",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            "Booking",
            {
                "fields": (
                    "session",
                    "patient",
                    "service_type",
                    "starts_at",
                    "ends_at",
                    "lane",
                    "source",
                    "notes",
                )
            },
        ),
        (
            "Status",
            {
                "fields": (
                    "status",
                    "confirmed_at",
                    "confirmed_via",
                    "arrived_at",
                    "cancelled_by",
                    "cancellation_reason",
                )
            },
        ),
        (
            "Record",
            {
                "fields": (
                    "booked_by",
                    "idempotency_key",
                    "rescheduled_from",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Booking | None = None) -> Any:
        if obj is None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Booking | None = None) -> Any:
        return self.change_readonly_fields if obj is not None else ()

    def get_form(
        self, request: HttpRequest, obj: Booking | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = BookingAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form.booked_by = request.user
        return form

    def save_model(
        self, request: HttpRequest, obj: Booking, form: forms.Form, change: bool
    ) -> None:
        if not change:
            return  # book_slot has saved it, with its history
        super().save_model(request, obj, form, change)

    @admin.action(description="Mark arrived", permissions=["change"])
    def mark_arrived(self, request: HttpRequest, queryset: QuerySet) -> None:
        apply_to_each(
            self,
            request,
            queryset,
            lambda booking: check_in(booking, by=request.user),
            done="Marked arrived",
        )

    @admin.action(description="Mark did not attend", permissions=["change"])
    def mark_did_not_attend(self, request: HttpRequest, queryset: QuerySet) -> None:
        apply_to_each(
            self,
            request,
            queryset,
            lambda booking: mark_no_show(booking, by=request.user),
            done="Marked as did not attend",
        )


@admin.register(VisitOutcome)
class VisitOutcomeAdmin(AuditedAdmin):
    scope = staticmethod(outcomes_for)
    choice_scopes = OUTREACH_CHOICE_SCOPES
    str_select_related = ("booking__patient", "booking__service_type")
    list_display = ("booking", "outcome", "result", "follow_up_date", "recorded_at")
    list_filter = ("outcome", "result")
    list_select_related = ("booking__patient", "booking__service_type")
    search_fields = ("booking__patient__preferred_name", "booking__patient__legal_name")
    date_hierarchy = "recorded_at"
    ordering = ("-recorded_at", "-id")
    autocomplete_fields = ("booking",)
    readonly_fields = ("recorded_by", "recorded_at")

    def get_readonly_fields(self, request: HttpRequest, obj: VisitOutcome | None = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "booking") if obj is not None else fields

    def save_model(
        self, request: HttpRequest, obj: VisitOutcome, form: forms.Form, change: bool
    ) -> None:
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnlyStatusMixin, OrganisationOwnedMixin, ScopedAdmin):
    scope = staticmethod(waitlist_for)
    choice_scopes = OUTREACH_CHOICE_SCOPES
    list_display = ("patient", "service_type", "venue", "status", "not_before", "not_after")
    list_filter = ("status", "service_type")
    list_select_related = ("patient", "service_type", "venue", "organisation")
    search_fields = ("patient__preferred_name", "patient__legal_name")
    date_hierarchy = "created_at"
    ordering = ("created_at", "id")
    autocomplete_fields = ("patient",)
    readonly_fields = ("offered_booking", "offered_at", "created_at")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "purpose", "channel", "discreet", "is_active", "updated_at")
    list_filter = ("purpose", "channel", "discreet", "is_active")
    search_fields = ("name", "subject", "body")
    ordering = ("purpose", "channel", "discreet")
    readonly_fields = ("updated_at",)


@admin.register(Message)
class MessageAdmin(ScopedAdmin):
    """The outbox, to read: every row is written by a service and sent by the worker."""

    scope = staticmethod(messages_for)
    list_display = ("id", "channel", "masked_to", "status", "send_after", "sent_at", "delivered_at")
    list_filter = ("status", "channel")
    search_fields = ("=idempotency_key", "=provider_reference")
    date_hierarchy = "send_after"
    ordering = ("-send_after", "-id")
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("channel", "to", "subject", "body", "template")}),
        ("For", {"fields": ("organisation", "patient", "recipient_user", "booking")}),
        (
            "Delivery",
            {
                "fields": (
                    "status",
                    "suppressed_reason",
                    "send_after",
                    "sent_at",
                    "delivered_at",
                    "attempts",
                    "failure_permanent",
                    "failure_detail",
                    "provider_reference",
                    "idempotency_key",
                )
            },
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description="to")
    def masked_to(self, obj: Message) -> str:
        return mask_contact(obj.to)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(ScopedAdmin):
    """Texts patients sent back; the ones the system could not act on wait for a coordinator."""

    scope = staticmethod(replies_for)
    list_display = ("received_at", "masked_from", "body", "action", "note", "booking", "handled")
    list_filter = ("handled", "action")
    list_editable = ("handled",)
    ordering = ("handled", "-received_at")
    readonly_fields = (
        "organisation",
        "provider_id",
        "from_number",
        "body",
        "received_at",
        "patient",
        "booking",
        "action",
        "note",
        "handled_at",
        "handled_by",
        "created_at",
    )

    @admin.display(description="from")
    def masked_from(self, obj: InboundMessage) -> str:
        return mask_contact(obj.from_number)

    def save_model(self, request: HttpRequest, obj: Any, form: forms.Form, change: bool) -> None:
        if obj.handled and "handled" in form.changed_data:
            # Ticked: the service records who and when, as the API's handle/ does.
            try:
                mark_reply_handled(obj, by=request.user)
            except DomainError as error:
                self.message_user(request, error.detail, level=messages.WARNING)
            return
        if not obj.handled:
            # Unticked: it waits for a coordinator again, so nobody has handled it.
            obj.handled_at, obj.handled_by = None, None
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
