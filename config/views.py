from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from config.forms import NHSFormMixin
from config.navigation import landing_url_for


class SignInForm(NHSFormMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
    }


class SignInView(auth_views.LoginView):
    authentication_form = SignInForm


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to its landing page; roles without one see the links they have."""
    landing = landing_url_for(request.user)
    if landing:
        return redirect(landing)
    staff = getattr(request.user, "staff", None)
    return render(request, "home.html", {"staff": staff})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database readiness for load balancers and compose health checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
