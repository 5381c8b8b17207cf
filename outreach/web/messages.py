"""The message log: every SMS and email with its delivery status, and resending failed ones.

The rows come from the scoped queryset alone: a message about a sensitive service (discreet,
or linked to a booking of one) is not there for staff without `clinics.view_sensitive_services`,
and another organisation's message is not there either (a 404 to resend). Who may see a message
may read it: the log keeps no rule of its own.
"""

from datetime import date, time, timedelta
from typing import Any

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from clinics.access_log import record_patient_access
from clinics.domain import DomainError
from clinics.models import ContactPoint
from config.forms import NHSFormMixin
from outreach.messaging import outbox
from outreach.messaging.api import mask
from outreach.models import Message
from outreach.permissions import messages_for
from outreach.services.common import local_datetime
from outreach.web.planner import is_htmx

PAGE_SIZE = 50


class MessageFilterForm(NHSFormMixin, forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Message.Status.choices], required=False
    )
    channel = forms.ChoiceField(
        choices=[("", "Any channel"), *ContactPoint.Channel.choices], required=False
    )
    date_from = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return data

    def narrow(self, queryset: Any) -> Any:
        data = self.cleaned_data
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("channel"):
            queryset = queryset.filter(channel=data["channel"])
        # Days are London days, so "1 June" means what the coordinator's clock said.
        if data.get("date_from"):
            queryset = queryset.filter(send_after__gte=_midnight(data["date_from"]))
        if data.get("date_to"):
            queryset = queryset.filter(
                send_after__lt=_midnight(data["date_to"] + timedelta(days=1))
            )
        return queryset


def _midnight(day: date) -> Any:
    return local_datetime(day, time(0, 0))


@login_required
@permission_required("outreach.view_message", raise_exception=True)
def message_log(request: HttpRequest) -> HttpResponse:
    """Messages newest first with their delivery status, filtered by status, channel and date."""
    form = MessageFilterForm(request.GET or None)
    queryset = messages_for(request.user).select_related("patient").order_by("-send_after", "-id")
    status = 200
    if form.is_bound:
        if form.is_valid():
            queryset = form.narrow(queryset)
        else:
            status = 400
            queryset = queryset.none()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "message": message,
            "to": mask(message.to),
            "may_resend": message.status == Message.Status.FAILED,
        }
        for message in page.object_list
    ]
    # The people this page of the log names: the patients of its messages (staff are not).
    record_patient_access(
        request,
        [row["message"].patient_id for row in rows],
        action="list",
        via="web",
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "may_resend": request.user.has_perm("outreach.change_message"),
    }
    template = "outreach/messages/_table.html" if is_htmx(request) else "outreach/messages/log.html"
    return render(request, template, context, status=status)


@login_required
@permission_required("outreach.change_message", raise_exception=True)
@require_POST
def message_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a failed message again, as the API's resend does."""
    message = get_object_or_404(messages_for(request.user), pk=pk)
    try:
        if message.status != Message.Status.FAILED:
            # The outbox would also move a scheduled message on; only a failure needs a person.
            raise DomainError("Only a failed message can be sent again.", code="not_failed")
        outbox.resend_message(message)
    except DomainError:
        flash.error(
            request,
            f"Message {message.pk} is {message.get_status_display().lower()}: "
            "only a failed message can be sent again.",
        )
    else:
        flash.success(request, f"Message {message.pk} will be sent again shortly.")
    # Back to the same filtered page; only a query string is accepted, never another address.
    back = request.POST.get("next", "")
    return redirect(reverse("message-log") + (back if back.startswith("?") else ""))
