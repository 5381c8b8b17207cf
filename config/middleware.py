"""Request middleware: two-factor enforcement and the Permissions-Policy header."""

from collections.abc import Callable
from functools import cached_property

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from clinics import two_factor

TWO_FACTOR_REQUIRED = "two_factor_required"


class TwoFactorRequiredMiddleware:
    """No page or API call for a signed-in user who needs two-factor until they have used it.

    Pages redirect to the code page (or to setting up an app, the first time), keeping where
    the person was going; API calls get 403 `two_factor_required`. The two-factor pages
    themselves, signing in and out, and calls made with a bearer token are let through: a
    token can only be made from a session that passed two-factor (clinics/api/tokens.py).
    So are GOV.UK Notify's callbacks: they authenticate with Notify's token and ignore any
    session, so a staff session gets their own answer (401, or 405 for a method they do not
    take) rather than `two_factor_required`.
    Goes after django_otp's OTPMiddleware, which says whether the session is verified.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def open_paths(self) -> tuple[str, ...]:
        names = (
            "two-factor-verify",
            "two-factor-setup",
            "login",
            "logout",
            "healthz",
            "notify-receipts",
            "notify-inbound",
        )
        return tuple(reverse(name) for name in names)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_verify(request):
            return self._refuse(request)
        return self.get_response(request)

    def _must_verify(self, request: HttpRequest) -> bool:
        if request.path in self.open_paths or request.path.startswith(settings.STATIC_URL):
            return False
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            return False
        user = request.user
        return two_factor.two_factor_required(user) and not user.is_verified()

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        has_app = two_factor.confirmed_app_device(request.user) is not None
        if request.path.startswith("/api/"):
            detail = (
                "Enter a code from your authenticator app first (sign in on the web)."
                if has_app
                else "Set up two-factor sign-in on the web first: your role requires it."
            )
            return JsonResponse({"code": TWO_FACTOR_REQUIRED, "detail": detail}, status=403)
        target = reverse("two-factor-verify" if has_app else "two-factor-setup")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")


class PermissionsPolicyMiddleware:
    """Switch off the browser features no page uses (settings.PERMISSIONS_POLICY)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(allow)})"
            for feature, allow in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response
