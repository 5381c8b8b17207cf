"""Reference data: organisations, services, the bus, venues, staff, destinations, templates."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group, Permission
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.models import MobileUnit, Organisation, ServiceType, StaffMember, Venue
from clinics.two_factor import two_factor_required
from outreach.models import MessageTemplate
from referrals.demo.catalogue import MOBILE_UNIT, ORGANISATIONS, SERVICES, VENUES
from referrals.demo.directory import DESTINATIONS, TEMPLATES
from referrals.demo.programmes import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_TOTP_KEY,
    EMAIL_DOMAIN,
    OTHER_STAFF,
    SUPERUSER,
    StaffSpec,
)
from referrals.demo.records import Demo, set_related, upsert
from referrals.models import Destination


def build_reference(demo: Demo) -> None:
    """Create or bring up to date everything the sessions and people hang off."""
    for key, spec in ORGANISATIONS.items():
        demo.orgs[key], _ = upsert(
            Organisation,
            {"name": spec["name"]},
            {"kind": spec["kind"], "ods_code": spec["ods_code"], "is_active": True},
        )
    for service in SERVICES:
        demo.services[service.code], _ = upsert(
            ServiceType,
            {"code": service.code},
            {
                "name": service.name,
                "description": service.description,
                "default_duration_minutes": service.minutes,
                "requires_competency": service.requires_competency,
                "min_age_years": service.min_age,
                "max_age_years": service.max_age,
                "requires_cervix": service.requires_cervix,
                "eligibility_notes": service.eligibility_notes,
                "sensitive": service.sensitive,
                "is_active": True,
            },
        )
    demo.unit, _ = upsert(
        MobileUnit,
        {"registration": MOBILE_UNIT["registration"]},
        {
            "organisation": demo.orgs[MOBILE_UNIT["organisation"]],
            "name": MOBILE_UNIT["name"],
            "capacity": MOBILE_UNIT["capacity"],
            "notes": MOBILE_UNIT["notes"],
            "is_active": True,
        },
    )
    set_related(
        demo.unit, "supported_services", [demo.services[c] for c in MOBILE_UNIT["services"]]
    )
    for key, spec in VENUES.items():
        values = {name: value for name, value in spec.items() if name != "organisation"}
        values["latitude"] = Decimal(str(values["latitude"]))
        values["longitude"] = Decimal(str(values["longitude"]))
        values["is_active"] = True
        name = values.pop("name")
        demo.venues[key], _ = upsert(
            Venue, {"organisation": demo.orgs[str(spec["organisation"])], "name": name}, values
        )
    _build_staff(demo)
    for spec in DESTINATIONS:
        demo.destinations[spec.key], _ = upsert(
            Destination,
            {"name": spec.name, "area": spec.area},
            {
                "category": spec.category,
                "provider": spec.provider,
                "description": spec.description,
                "route": spec.route,
                "email": spec.email,
                "phone": spec.phone,
                "address": spec.address,
                "postcode": spec.postcode,
                "response_target_days": spec.response_target_days,
                "eligibility_notes": spec.eligibility_notes,
                "is_active": True,
            },
        )
    _build_templates(demo)


class _Passwords:
    """Hash the demo password once per run and check each distinct stored hash once.

    Password hashing is deliberately slow; every demo login is given the same encoded hash,
    so a second run verifies one hash instead of seven.
    """

    def __init__(self) -> None:
        self._encoded = ""
        self._verified: set[str] = set()

    def encoded(self) -> str:
        if not self._encoded:
            self._encoded = make_password(DEMO_PASSWORD)
            self._verified.add(self._encoded)
        return self._encoded

    def is_demo_password(self, encoded: str) -> bool:
        if encoded in self._verified:
            return True
        if encoded and check_password(DEMO_PASSWORD, encoded):
            self._verified.add(encoded)
            return True
        return False


def _build_staff(demo: Demo) -> None:
    passwords = _Passwords()
    groups = {group.name: group for group in Group.objects.all()}
    sensitive = Permission.objects.get(
        content_type__app_label="clinics", codename="view_sensitive_services"
    )
    for spec in [*DEMO_LOGINS, *OTHER_STAFF]:
        user = _ensure_user(spec, passwords, superuser=False)
        demo.users[spec.username] = user
        group = groups[StaffMember.ROLE_GROUPS[StaffMember.Role(spec.role)]]
        if set(user.groups.values_list("pk", flat=True)) != {group.pk}:
            user.groups.set([group])
        staff, _ = upsert(
            StaffMember,
            {"user": user},
            {
                "organisation": demo.orgs[spec.organisation],
                "role": spec.role,
                "phone": spec.phone,
                "is_active": True,
            },
        )
        set_related(staff, "competencies", [demo.services[c] for c in spec.competencies])
        # Those who deliver a sensitive service may see its bookings: granted per person.
        if any(demo.services[c].sensitive for c in spec.competencies):
            user.user_permissions.add(sensitive)
        demo.staff[spec.username] = staff
    demo.users[SUPERUSER.username] = _ensure_user(SUPERUSER, passwords, superuser=True)
    _ensure_authenticators(demo.users[spec.username] for spec in [*DEMO_LOGINS, SUPERUSER])


def _ensure_authenticators(users: Iterable[Any]) -> None:
    """Give each demo login whose role needs two-factor the demo's published authenticator.

    Staff who are not demo logins have no password anyone knows, so they get none.
    """
    for user in users:
        if two_factor_required(user) and not TOTPDevice.objects.filter(user=user).exists():
            TOTPDevice.objects.create(
                user=user, name="Demo authenticator", key=DEMO_TOTP_KEY, confirmed=True
            )


def _ensure_user(spec: StaffSpec, passwords: _Passwords, *, superuser: bool) -> object:
    user_model = get_user_model()
    user, created = upsert(
        user_model,
        {"username": spec.username},
        {
            "first_name": spec.first_name,
            "last_name": spec.last_name,
            "email": f"{spec.username}@{EMAIL_DOMAIN}",
            "is_staff": True,
            "is_superuser": superuser,
            "is_active": True,
        },
        # Staff without a demo login exist for the rota only: nobody can sign in as them.
        create_only={"password": passwords.encoded() if spec.login else make_password(None)},
    )
    if spec.login and not created and not passwords.is_demo_password(user.password):
        user.password = passwords.encoded()
        user.save(update_fields=["password"])
    return user


def _build_templates(demo: Demo) -> None:
    for spec in TEMPLATES:
        slot = (spec.purpose, spec.channel, spec.discreet)
        active = MessageTemplate.objects.filter(
            purpose=spec.purpose, channel=spec.channel, discreet=spec.discreet, is_active=True
        ).first()
        if active is not None and active.name != spec.name:
            # Someone has written their own wording for this slot: it stays in charge.
            demo.templates[slot] = active
            continue
        demo.templates[slot], _ = upsert(
            MessageTemplate,
            {"name": spec.name, "purpose": spec.purpose, "channel": spec.channel},
            {"discreet": spec.discreet, "subject": spec.subject, "body": spec.body},
            create_only={"is_active": True},
        )
