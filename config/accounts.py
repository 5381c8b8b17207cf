"""Signing in: the password page (throttled), two-factor codes, setup and backup codes."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views import View
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from rest_framework.throttling import SimpleRateThrottle

from clinics import two_factor
from config.forms import NHSFormMixin


class SignInThrottle(SimpleRateThrottle):
    """Sign-in attempts per client address (REST_FRAMEWORK's `login` rate).

    django-axes locks one username after repeated failures; this stops one address trying
    password after password across many usernames. Counted in the shared cache, so every
    gunicorn process sees the same count.
    """

    scope = "login"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignInForm(NHSFormMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
    }


@method_decorator(never_cache, name="dispatch")
class SignInView(auth_views.LoginView):
    """The sign-in page; a coordinator or admin goes on to the two-factor page from here."""

    authentication_form = SignInForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle = SignInThrottle()
        if not throttle.allow_request(request, self):
            wait = int(throttle.wait() or 60)
            # An unbound form: binding it would check the password, which is what is refused.
            form = self.get_form_class()(
                request, initial={"username": request.POST.get("username", "")}
            )
            form.cleaned_data = {}  # add_error expects it, and an unbound form has none
            form.add_error(
                None,
                f"Too many sign-in attempts from your network. Wait {wait} seconds and try again.",
            )
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        error_messages={"required": "Enter the code from your authenticator app."},
    )


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return "/"


def _verified(request: HttpRequest, device: Any) -> None:
    """Mark the session verified by `device`, under a new session key.

    The session now carries more privilege; a key someone saw before the code was entered
    (a fixation attack) must not carry it.
    """
    request.session.cycle_key()
    otp_login(request, device)


def _go_to(name: str, request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse(name)}?{urlencode({'next': _next_url(request)})}")


def _codes_page(request: HttpRequest, codes: list[str], *, first_time: bool) -> HttpResponse:
    """Backup codes, shown this once: the page is never cached."""
    response = render(
        request,
        "two_factor/backup_codes.html",
        {"codes": codes, "first_time": first_time, "next": _next_url(request)},
    )
    response["Cache-Control"] = "no-store"
    return response


@method_decorator([login_required, never_cache], name="dispatch")
class VerifyView(View):
    """Enter a code from the authenticator app, or a backup code."""

    template_name = "two_factor/verify.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if two_factor.confirmed_app_device(request.user) is None:
            if two_factor.two_factor_required(request.user):
                return _go_to("two-factor-setup", request)
            return redirect(_next_url(request))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, CodeForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CodeForm(request.POST)
        if form.is_valid():
            device = two_factor.verify_code(request.user, form.cleaned_data["code"])
            if device is not None:
                _verified(request, device)
                if isinstance(device, StaticDevice):
                    left = two_factor.backup_codes_left(request.user)
                    messages.warning(
                        request,
                        f"You used a backup code: {left} left. Make new ones from "
                        "'Backup codes' if you are running out.",
                    )
                return redirect(_next_url(request))
            form.add_error(
                "code",
                "The code is not right, or was already used. Check the time on your phone "
                "is correct and enter the newest code.",
            )
        return self._page(request, form, status=400)

    def _page(self, request: HttpRequest, form: CodeForm, status: int = 200) -> HttpResponse:
        context = {"form": form, "next": _next_url(request)}
        return render(request, self.template_name, context, status=status)


@method_decorator([login_required, never_cache], name="dispatch")
class SetupView(View):
    """Set up an authenticator app: scan the QR code (or type the key), then give a code."""

    template_name = "two_factor/setup.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if two_factor.confirmed_app_device(request.user) is not None:
            return _go_to("two-factor-verify", request)
        if not two_factor.two_factor_required(request.user):
            return redirect(_next_url(request))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, CodeForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CodeForm(request.POST)
        if form.is_valid():
            device = two_factor.start_app_setup(request.user)
            codes = two_factor.confirm_app_device(device, form.cleaned_data["code"])
            if codes is not None:
                device.refresh_from_db()
                _verified(request, device)
                return _codes_page(request, codes, first_time=True)
            form.add_error(
                "code",
                "The code is not right. Check the time on your phone is correct and enter "
                "the newest code the app shows.",
            )
        return self._page(request, form, status=400)

    def _page(self, request: HttpRequest, form: CodeForm, status: int = 200) -> HttpResponse:
        device = two_factor.start_app_setup(request.user)
        context = {
            "form": form,
            "qr_code": two_factor.qr_code_svg(device),
            "secret": two_factor.app_secret(device),
            "next": _next_url(request),
        }
        return render(request, self.template_name, context, status=status)


@method_decorator([login_required, never_cache], name="dispatch")
class BackupCodesView(View):
    """How many backup codes are left, and a button to replace them all."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Only a session that has just proved the second factor may see new codes.
        if not request.user.is_verified():
            return redirect(f"{reverse('two-factor-verify')}?{urlencode({'next': request.path})}")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        left = two_factor.backup_codes_left(request.user)
        return render(request, "two_factor/backup_codes_manage.html", {"left": left})

    def post(self, request: HttpRequest) -> HttpResponse:
        codes = two_factor.replace_backup_codes(request.user)
        return _codes_page(request, codes, first_time=False)
