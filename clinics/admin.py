"""Admin for organisations, staff, units, venues, services and patients.

The mixins here are shared by the outreach and referrals admins. Every admin starts from the
permission helpers, so a coordinator sees exactly what the API would show them: another
organisation's record is not there at all, in lists, pickers, autocompletes and history.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, model_ngettext, unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Field, Model, QuerySet
from django.forms import BaseFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from clinics.access_log import record_patient_access
from clinics.domain import DomainError
from clinics.governance import AccessLogEntry
from clinics.models import (
    ContactPoint,
    MobileUnit,
    Organisation,
    Patient,
    ServiceType,
    StaffMember,
    Venue,
)
from clinics.permissions import (
    contact_points_for,
    mobile_units_for,
    organisation_ids_for,
    organisations_for,
    patients_for,
    sees_everything,
    staff_for,
    staff_members_for,
    users_for,
    venues_for,
)
from clinics.validators import normalise_mobile

Scope = Callable[[Any], QuerySet]


def own_organisation_id(user: Any) -> int | None:
    """The organisation a non-superuser's new records belong to, or None if they have none."""
    staff = staff_for(user)
    if staff is None or staff.organisation_id not in organisation_ids_for(user):
        return None
    return staff.organisation_id


# The scope that limits a foreign key's choices, by the model it points to. The outreach and
# referrals admins extend it with their own models.
CLINICS_CHOICE_SCOPES: dict[type[Model], Scope] = {
    Organisation: organisations_for,
    Patient: patients_for,
    StaffMember: staff_members_for,
    Venue: venues_for,
    MobileUnit: mobile_units_for,
    get_user_model(): users_for,
}


def mask_contact(value: str) -> str:
    """Enough of a phone number or email address to tell two apart, not enough to use it."""
    if not value:
        return ""
    if "@" in value:
        return "***@" + value.rsplit("@", 1)[1]
    digits = [char for char in value if char.isdigit()]
    return "***" + "".join(digits[-3:])


def apply_to_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    objects: Iterable[Model],
    change: Callable[[Any], object],
    *,
    done: str,
) -> None:
    """Run a service on each selected object, reporting each refusal rather than failing all."""
    changed = 0
    for obj in objects:
        try:
            change(obj)
        except DomainError as error:
            model_admin.message_user(request, f"{obj}: {error.detail}", level=messages.WARNING)
        else:
            changed += 1
    if changed:
        noun = model_ngettext(model_admin.opts, changed)
        model_admin.message_user(request, f"{done}: {changed} {noun}.", level=messages.SUCCESS)


# --- Mixins shared by every app's admin -----------------------------------------------------


class ScopedChoicesMixin:
    """Limit foreign-key and many-to-many choices to what the user may see.

    Autocomplete widgets only show what the related admin returns, but the submitted id is
    checked against the form field's queryset: that is what stops a crafted POST naming
    another organisation's patient.
    """

    choice_scopes: ClassVar[Mapping[type[Model], Scope]] = CLINICS_CHOICE_SCOPES

    def formfield_for_foreignkey(
        self, db_field: Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        scope = self.choice_scopes.get(db_field.related_model)
        if scope is not None and "queryset" not in kwargs:
            kwargs["queryset"] = scope(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        scope = self.choice_scopes.get(db_field.related_model)
        if scope is not None and "queryset" not in kwargs:
            kwargs["queryset"] = scope(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """A ModelAdmin whose rows come from a permission helper such as `patients_for`."""

    scope: ClassVar[Scope]
    # The joins a row's __str__ needs, for autocomplete results. Not in the scope itself:
    # the changelist skips list_select_related for a queryset that already has joins.
    str_select_related: ClassVar[tuple[str, ...]] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = self.scope(request.user)
        ordering = self.get_ordering(request)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return queryset

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        if self.str_select_related:
            queryset = queryset.select_related(*self.str_select_related)
        return super().get_search_results(request, queryset, search_term)


class ScopedInlineMixin(ScopedChoicesMixin):
    scope: ClassVar[Scope]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        if not self.has_view_or_change_permission(request):
            return self.model._default_manager.none()
        queryset = self.scope(request.user)
        ordering = self.get_ordering(request)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return queryset


class OrganisationOwnedMixin:
    """For models with an `organisation`: a non-superuser's new rows are their organisation's.

    The field is read-only for them, so they cannot file a record under someone else; the
    organisation column and filter only help superusers, who see every organisation.
    """

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if not sees_everything(request.user):
            fields += ("organisation",)
        return fields

    def get_list_display(self, request: HttpRequest) -> Any:
        fields = tuple(super().get_list_display(request))
        return (*fields, "organisation") if sees_everything(request.user) else fields

    def get_list_filter(self, request: HttpRequest) -> Any:
        fields = tuple(super().get_list_filter(request))
        return (*fields, "organisation") if sees_everything(request.user) else fields

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        allowed = super().has_add_permission(request, *args)
        if sees_everything(request.user):
            return allowed
        return allowed and own_organisation_id(request.user) is not None

    def save_model(self, request: HttpRequest, obj: Any, form: forms.Form, change: bool) -> None:
        if not change and not sees_everything(request.user):
            obj.organisation_id = own_organisation_id(request.user)
        super().save_model(request, obj, form, change)


class ReadOnlyStatusMixin:
    """`status` only moves through the services' transition tables, never by editing.

    It stays in the form as a disabled field rather than a read-only one: Django ignores a
    posted value for a disabled field, and keeping the field in the form keeps the
    constraints whose condition names the status (one open waiting-list entry per person,
    a bus in one place at a time) in the form's validation instead of ending in an
    IntegrityError. A new row starts in the model's initial status.
    """

    def formfield_for_dbfield(
        self, db_field: Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "status" and field is not None:
            field.disabled = True
            field.help_text = "Changed with the actions on the list page, not by editing."
        return field


class ChangeReasonForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Reason for this change",
        required=False,
        # The history table's change reason column is 100 characters.
        max_length=100,
        help_text="Kept in the record's history with your name and the time.",
    )


class AuditedAdmin(ReadOnlyStatusMixin, ScopedAdmin, SimpleHistoryAdmin):
    """A scoped admin for a model with django-simple-history: who, when, what and why.

    simple-history's own views look records up without our scope (and fall back to the last
    historical copy of a row they cannot find), so both are checked here. Reverting is off: a
    revert writes an old status and old times straight back, past the transition table and
    the clash checks the services make.
    """

    form = ChangeReasonForm

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        form_fields = getattr(self.form, "declared_fields", {})
        if "change_reason" in form_fields and "change_reason" not in flatten_fieldsets(fieldsets):
            fieldsets.append(("Why", {"fields": ["change_reason"]}))
        return fieldsets

    def save_model(self, request: HttpRequest, obj: Any, form: forms.Form, change: bool) -> None:
        reason = form.cleaned_data.get("change_reason", "")
        obj._change_reason = reason or ("Changed in the admin" if change else "Added in the admin")
        super().save_model(request, obj, form, change)

    def _object_or_404(self, request: HttpRequest, object_id: str) -> None:
        # A superuser may still read the history of a deleted row; nobody else may read
        # the history of a row they cannot see.
        if sees_everything(request.user):
            return
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        self._object_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict | None = None,
    ) -> HttpResponse:
        if request.method != "GET":
            raise PermissionDenied
        self._object_or_404(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return True


# --- Clinics --------------------------------------------------------------------------------


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdmin):
    scope = staticmethod(organisations_for)
    list_display = ("name", "kind", "ods_code", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "ods_code")
    ordering = ("name",)
    readonly_fields = ("created_at",)


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "default_duration_minutes",
        "requires_competency",
        "sensitive",
        "is_active",
    )
    list_filter = ("requires_competency", "requires_cervix", "sensitive", "is_active")
    search_fields = ("name", "code")
    ordering = ("name",)
    prepopulated_fields = {"code": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "code", "description", "default_duration_minutes")}),
        (
            "Who may have it",
            {
                "fields": (
                    "min_age_years",
                    "max_age_years",
                    "requires_cervix",
                    "eligibility_notes",
                )
            },
        ),
        ("Who may deliver it", {"fields": ("requires_competency",)}),
        ("Reminders", {"fields": ("sensitive", "is_active")}),
    )


@admin.register(StaffMember)
class StaffMemberAdmin(OrganisationOwnedMixin, ScopedAdmin):
    scope = staticmethod(staff_members_for)
    list_display = ("name", "role", "phone", "is_active")
    list_filter = ("role", "is_active")
    list_select_related = ("user", "organisation")
    search_fields = ("user__first_name", "user__last_name", "user__username", "user__email")
    ordering = ("user__first_name", "user__last_name")
    filter_horizontal = ("competencies",)

    @admin.display(description="name", ordering="user__first_name")
    def name(self, obj: StaffMember) -> str:
        return obj.user.get_full_name() or obj.user.get_username()

    def formfield_for_foreignkey(
        self, db_field: Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "user" and not sees_everything(request.user):
            # Someone not yet on any staff list, or already on one of ours.
            unlisted = get_user_model().objects.filter(staff__isnull=True, is_superuser=False)
            kwargs["queryset"] = unlisted | users_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: StaffMember, form: forms.Form, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        # Permissions hang off the role's group; a role changed here must move the user too.
        role_groups = Group.objects.filter(name__in=set(StaffMember.ROLE_GROUPS.values()))
        obj.user.groups.remove(*role_groups.exclude(name=obj.group_name))
        obj.user.groups.add(*role_groups.filter(name=obj.group_name))


@admin.register(MobileUnit)
class MobileUnitAdmin(OrganisationOwnedMixin, ScopedAdmin):
    scope = staticmethod(mobile_units_for)
    list_display = ("name", "registration", "capacity", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("organisation",)
    search_fields = ("name", "registration")
    ordering = ("name",)
    filter_horizontal = ("supported_services",)


@admin.register(Venue)
class VenueAdmin(OrganisationOwnedMixin, ScopedAdmin):
    scope = staticmethod(venues_for)
    list_display = ("name", "kind", "town", "postcode", "imd_decile", "is_active")
    list_filter = ("kind", "imd_decile", "is_active")
    list_select_related = ("organisation",)
    search_fields = ("name", "town", "postcode")
    ordering = ("name",)
    fieldsets = (
        (None, {"fields": ("organisation", "name", "kind", "is_active")}),
        ("Where", {"fields": ("address", "town", "postcode", "latitude", "longitude")}),
        ("On the day", {"fields": ("access_notes", "host_contact_name", "host_contact_phone")}),
        ("Reporting", {"fields": ("imd_decile",)}),
    )


def record_consent(contact: ContactPoint, user: Any) -> None:
    """Stamp who recorded a newly given consent and when; the database requires the time."""
    if contact.consent_given and contact.consent_recorded_at is None:
        contact.consent_recorded_at = timezone.now()
        contact.consent_recorded_by = user


class ContactPointForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # Compare numbers the way they are stored, so "07911 123456" is seen to duplicate
        # "+447911123456" here and not as an IntegrityError on save.
        if cleaned.get("channel") == ContactPoint.Channel.SMS and cleaned.get("value"):
            cleaned["value"] = normalise_mobile(cleaned["value"])
        elif cleaned.get("channel") == ContactPoint.Channel.EMAIL and cleaned.get("value"):
            cleaned["value"] = cleaned["value"].strip().lower()
        return cleaned


class ContactPointInline(ScopedInlineMixin, admin.TabularInline):
    model = ContactPoint
    form = ContactPointForm
    scope = staticmethod(contact_points_for)
    fields = (
        "channel",
        "value",
        "is_preferred",
        "consent_given",
        "consent_recorded_at",
        "consent_recorded_by",
        "opted_out_at",
    )
    readonly_fields = ("consent_recorded_at", "consent_recorded_by")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("consent_recorded_by")


class MergedFilter(admin.SimpleListFilter):
    title = "record"
    parameter_name = "record"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("current", "Current"), ("merged", "Merged into another record")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "current":
            return queryset.filter(merged_into__isnull=True)
        if self.value() == "merged":
            return queryset.filter(merged_into__isnull=False)
        return queryset


@admin.register(Patient)
class PatientAdmin(OrganisationOwnedMixin, AuditedAdmin):
    scope = staticmethod(patients_for)
    list_display = (
        "preferred_name",
        "legal_name",
        "year_of_birth",
        "housing_status",
        "gp_registration",
        "postcode",
    )
    list_filter = (
        "housing_status",
        "gp_registration",
        "sex",
        "ethnicity",
        "no_fixed_abode",
        MergedFilter,
    )
    list_select_related = ("organisation",)
    search_fields = ("preferred_name", "legal_name", "=nhs_number", "postcode")
    ordering = ("preferred_name", "id")
    show_full_result_count = False
    readonly_fields = (
        "merged_into",
        "created_by",
        "postcode_district",
        "anonymised_at",
        "created_at",
        "updated_at",
    )
    inlines = (ContactPointInline,)
    fieldsets = (
        (
            "Identity",
            {
                "fields": (
                    "preferred_name",
                    "legal_name",
                    "date_of_birth",
                    "year_of_birth",
                    "nhs_number",
                )
            },
        ),
        ("Demographics", {"fields": ("sex", "gender_identity", "has_cervix", "ethnicity")}),
        (
            "Housing and GP",
            {
                "fields": (
                    "housing_status",
                    "postcode",
                    "no_fixed_abode",
                    "gp_registration",
                    "gp_practice_name",
                )
            },
        ),
        (
            "Contact safety",
            {"fields": ("safe_contact_notes", "interpreter_language", "access_needs")},
        ),
        (
            "Record",
            {
                "fields": (
                    "organisation",
                    "merged_into",
                    "created_by",
                    "postcode_district",
                    "anonymised_at",
                    "created_at",
                    "updated_at",
                ),
                "description": "Duplicates are merged from the patient record screen, not here.",
            },
        ),
    )

    # Every look at a patient in the admin is in the access log, like the API and web app.
    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            action = (
                AccessLogEntry.Action.SEARCH if changelist.query else AccessLogEntry.Action.LIST
            )
            record_patient_access(
                request, list(changelist.result_list), action=action, via=AccessLogEntry.Via.ADMIN
            )
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        patient = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and patient is not None:
            record_patient_access(
                request, patient, action=AccessLogEntry.Action.VIEW, via=AccessLogEntry.Via.ADMIN
            )
        return response

    def save_model(
        self, request: HttpRequest, obj: Patient, form: forms.Form, change: bool
    ) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(
        self, request: HttpRequest, form: forms.Form, formset: BaseFormSet, change: bool
    ) -> None:
        if formset.model is not ContactPoint:
            super().save_formset(request, form, formset, change)
            return
        for contact in formset.save(commit=False):
            record_consent(contact, request.user)
            contact.save()
        for contact in formset.deleted_objects:
            contact.delete()
        formset.save_m2m()


@admin.register(ContactPoint)
class ContactPointAdmin(ScopedAdmin):
    scope = staticmethod(contact_points_for)
    form = ContactPointForm
    list_display = ("patient", "channel", "masked_value", "is_preferred", "may_contact")
    list_filter = ("channel", "consent_given", "is_preferred")
    list_select_related = ("patient",)
    search_fields = ("patient__preferred_name", "patient__legal_name", "value")
    ordering = ("patient__preferred_name", "id")
    autocomplete_fields = ("patient",)
    readonly_fields = ("consent_recorded_at", "consent_recorded_by", "created_at")

    @admin.display(description="contact")
    def masked_value(self, obj: ContactPoint) -> str:
        return mask_contact(obj.value)

    @admin.display(description="may contact", boolean=True)
    def may_contact(self, obj: ContactPoint) -> bool:
        return obj.may_contact

    def save_model(
        self, request: HttpRequest, obj: ContactPoint, form: forms.Form, change: bool
    ) -> None:
        record_consent(obj, request.user)
        super().save_model(request, obj, form, change)


# The user admin, the data-sharing agreements and the access log live in their own modules;
# importing them here registers them.
from clinics import governance_admin, user_admin  # noqa: E402, F401
