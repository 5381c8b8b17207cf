"""The destination directory: search it, read an entry, add and edit entries.

The directory is shared by every organisation; adding and editing follow the role
permissions (coordinators and admins), and every write goes through referrals.destinations.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from clinics.domain import DomainError
from referrals.destinations import create_destination, update_destination
from referrals.models import Destination
from referrals.permissions import destinations_for
from referrals.web.board import is_htmx
from referrals.web.board_forms import DestinationForm, DirectorySearchForm

PAGE_SIZE = 25


@login_required
@permission_required("referrals.view_destination", raise_exception=True)
def directory(request: HttpRequest) -> HttpResponse:
    """Destinations by name, searched by name, provider or area and narrowed by kind."""
    form = DirectorySearchForm(request.GET or None)
    queryset = destinations_for(request.user).order_by("name", "id")
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            words = data["q"].strip()
            queryset = queryset.filter(
                Q(name__icontains=words) | Q(provider__icontains=words) | Q(area__icontains=words)
            )
        if data["category"]:
            queryset = queryset.filter(category=data["category"])
        if not data["show_inactive"]:
            queryset = queryset.filter(is_active=True)
    else:
        queryset = queryset.filter(is_active=True)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "may_add": request.user.has_perm("referrals.add_destination"),
    }
    template = (
        "referrals/board/_directory_results.html"
        if is_htmx(request)
        else "referrals/board/directory.html"
    )
    return render(request, template, context)


@login_required
@permission_required("referrals.view_destination", raise_exception=True)
def destination_detail(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(destinations_for(request.user), pk=pk)
    return render(
        request,
        "referrals/board/destination_detail.html",
        {
            "destination": destination,
            "may_edit": request.user.has_perm("referrals.change_destination"),
        },
    )


def _save(request: HttpRequest, form: DestinationForm, destination: Destination | None) -> Any:
    try:
        if destination is None:
            return create_destination(by=request.user, **form.cleaned_data)
        return update_destination(destination, by=request.user, **form.cleaned_data)
    except DomainError as error:
        fields = error.extra.get("fields") or {}
        for name, message in fields.items():
            form.add_error(name if name in form.fields else None, message)
        if not fields:
            form.add_error(None, error.detail)
        return None


@login_required
@permission_required("referrals.add_destination", raise_exception=True)
@require_http_methods(["GET", "POST"])
def destination_create(request: HttpRequest) -> HttpResponse:
    form = DestinationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, None)
        if saved is not None:
            messages.success(request, f"{saved.name} is in the directory.")
            return redirect("directory-detail", pk=saved.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "referrals/board/destination_form.html", {"form": form}, status=status)


@login_required
@permission_required("referrals.change_destination", raise_exception=True)
@require_http_methods(["GET", "POST"])
def destination_edit(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(destinations_for(request.user), pk=pk)
    form = DestinationForm(request.POST if request.method == "POST" else None, instance=destination)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, destination)
        if saved is not None:
            messages.success(request, f"{saved.name} is updated.")
            return redirect("directory-detail", pk=saved.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "referrals/board/destination_form.html",
        {"form": form, "destination": destination},
        status=status,
    )
