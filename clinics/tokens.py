"""API tokens: make, check and revoke them.

A token reads `otk_<key_id>_<secret>`. The key id finds the row with one indexed query; the
secret is random (32 bytes) and only its SHA-256 is stored, compared in constant time. A slow
password hash would add nothing: nobody can guess 256 random bits, and every API call pays
for the check.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from clinics.domain import DomainError
from clinics.models import ApiToken

PREFIX = "otk"
# last_used_at is a hint for people deciding which tokens to revoke, not an audit trail:
# writing it on every request would turn each read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenRefused(DomainError):
    """A bearer token that does not (or no longer) let anyone in; `code` says why."""

    code = "token_invalid"
    status_code = 401


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    # The whole token: shown to its owner once, never stored.
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(
    user: Any, *, name: str, days: int | None = None, now: datetime | None = None
) -> NewToken:
    """Make a token for `user` lasting `days` (default and maximum from the settings)."""
    days = settings.OUTREACH_API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= settings.OUTREACH_API_TOKEN_MAX_DAYS:
        raise DomainError(
            f"A token can last from 1 to {settings.OUTREACH_API_TOKEN_MAX_DAYS} days.",
            code="invalid",
            fields={"expires_in_days": f"Give 1 to {settings.OUTREACH_API_TOKEN_MAX_DAYS}."},
        )
    now = now or timezone.now()
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_id=key_id,
        secret_hash=_hash(secret),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return NewToken(token=token, secret=f"{PREFIX}_{key_id}_{secret}")


def revoke_api_token(token: ApiToken, *, by: Any, now: datetime | None = None) -> ApiToken:
    """Stop a token working from now on; revoking it again changes nothing."""
    now = now or timezone.now()
    # A conditional update: two people revoking at once leave the first one's name on it.
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=by
    )
    token.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return token


def authenticate_token(raw: str, *, now: datetime | None = None) -> ApiToken:
    """The token `raw` names, with its user and staff record, or TokenRefused saying why."""
    now = now or timezone.now()
    prefix, _, rest = raw.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        raise TokenRefused("That is not an Outreach API token.")
    token = ApiToken.objects.select_related("user", "user__staff").filter(key_id=key_id).first()
    # Compare against a hash even when there is no such token, so an unknown key id takes
    # as long to refuse as a wrong secret.
    expected = token.secret_hash if token is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(secret)) or token is None:
        raise TokenRefused("The API token is not recognised.")
    if token.revoked_at is not None:
        raise TokenRefused("The API token has been revoked.", code="token_revoked")
    if token.expires_at <= now:
        raise TokenRefused("The API token has expired: make a new one.", code="token_expired")
    user = token.user
    # None for a user with no staff record (a RelatedObjectDoesNotExist is an AttributeError).
    staff = getattr(user, "staff", None)
    if not user.is_active or (staff is not None and not staff.is_active):
        raise TokenRefused(
            "The account this API token belongs to is deactivated.", code="token_user_inactive"
        )
    _touch(token, now)
    return token


def _touch(token: ApiToken, now: datetime) -> None:
    """Record the use, at most once a minute whatever the number of processes."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_PRECISION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
