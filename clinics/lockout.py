"""Login lockout (django-axes): the answer a locked-out person gets, what is logged, unlocking.

After OUTREACH_LOGIN_FAILURE_LIMIT wrong passwords for one username, that username cannot sign
in for OUTREACH_LOGIN_COOLOFF_MINUTES, even with the right password. An administrator can
unlock it sooner (the "Unlock sign-in" action on users, or `manage.py axes_reset_username`).
"""

import hashlib
import math
from typing import Any

from axes.helpers import get_cool_off
from axes.utils import reset
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse


def lockout_message(request: HttpRequest) -> str:
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else None
    wait = f"Try again in {minutes} minutes" if minutes else "Try again later"
    return (
        "Your account is locked because the password was entered wrongly too many times. "
        f"{wait}, or ask an administrator in your organisation to unlock it."
    )


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """A 429: the API's error shape for API calls, the sign-in page with the reason otherwise."""
    cool_off = get_cool_off(request)
    retry_after = str(int(cool_off.total_seconds())) if cool_off else None
    message = lockout_message(request)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"code": "locked_out", "detail": message}, status=429)
    else:
        # Unbound, keeping the username typed: a bound form would check the password again.
        username = (credentials or {}).get("username") or request.POST.get("username", "")
        form = AuthenticationForm(request, initial={"username": username})
        form.cleaned_data = {}  # add_error expects it, and an unbound form has none
        form.add_error(None, message)
        response = TemplateResponse(
            request, "registration/login.html", {"form": form, "locked_out": True}, status=429
        )
        response.render()
    if retry_after:
        response["Retry-After"] = retry_after
    return response


def client_str(
    username: str | None, ip_address: str, user_agent: str, path_info: Any, request: Any
) -> str:
    """What axes writes in its log lines: a user id or a pseudonym, never the name typed."""
    path = path_info[0] if isinstance(path_info, tuple | list) else path_info
    user = get_user_model().objects.filter(username=username).only("pk").first()
    if user is not None:
        who = f"user {user.pk}"
    else:
        digest = hashlib.sha256((username or "").encode()).hexdigest()[:10]
        who = f"unknown username {digest}"
    return f"{{{who}, path {path}}}"


def unlock_sign_in(user: Any) -> int:
    """Clear the failed attempts that lock `user` out; the number of records cleared."""
    return reset(username=user.get_username())
