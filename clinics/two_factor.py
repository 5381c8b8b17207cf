"""Two-factor sign-in: who needs it, setting up an authenticator app, codes and backup codes.

Coordinators and admins (OUTREACH_TWO_FACTOR_ROLES) and superusers see every patient of their
organisation and change who may see what: after their password they must give a code from an
authenticator app (TOTP, django-otp) before any page or API call. Ten single-use backup codes
let them in when the phone is lost. config/middleware.py enforces it; config/accounts.py has
the pages.
"""

import base64
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.permissions import staff_for

APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


def two_factor_required(user: Any) -> bool:
    """Whether `user` must give a second factor; no query for a user loaded with their staff."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    staff = staff_for(user)
    return staff is not None and staff.role in settings.OUTREACH_TWO_FACTOR_ROLES


def confirmed_app_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def start_app_setup(user: Any) -> TOTPDevice:
    """The unconfirmed authenticator device being set up, made if there is none yet.

    Reusing it means reloading the setup page shows the same QR code, so an app that already
    scanned it still gives codes that work.
    """
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def app_secret(device: TOTPDevice) -> str:
    """The secret as people type it into an app: base32 in groups of four."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG element: no script, no image request, no data URL."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, border=2, title="QR code for your authenticator app"
    )


def _normalise(code: str) -> str:
    return "".join(code.split()).lower()


def confirm_app_device(device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the device with a first code from the app; new backup codes, or None if wrong."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if device.confirmed or not device.verify_token(_normalise(code)):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Only one app per person: a device left over from an earlier setup goes.
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        return replace_backup_codes(device.user)


def replace_backup_codes(user: Any) -> list[str]:
    """Make a fresh set of backup codes; the old ones stop working. Shown to the user once."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(settings.OUTREACH_BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def backup_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def verify_code(user: Any, code: str) -> Device | None:
    """The device that accepts `code` (app first, then backup codes), or None.

    Each device is locked while it checks, so the same code sent twice at once is accepted
    once: a TOTP device remembers the last time step it accepted and refuses it again, and a
    backup code is deleted when used. A wrong code makes the next try wait longer.
    """
    code = _normalise(code)
    if not code:
        return None
    with transaction.atomic():
        app = TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in app:
            if code.isdigit() and device.verify_token(code):
                return device
        backups = StaticDevice.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in backups:
            if device.verify_token(code):
                return device
    return None


def reset_two_factor(user: Any) -> None:
    """Remove the person's app and backup codes: they set up again at their next sign-in."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
