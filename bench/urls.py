"""The application's URLs plus /bench/baseline/: lock one row and insert one, nothing else.

The baseline is what any booking costs at the least (a transaction, a row lock, an insert,
Django's request cycle and session authentication), so the ratio of the real booking endpoint to
it says how much the booking rules cost, independent of the machine.
"""

from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.http import require_POST


@require_POST
@login_required
def baseline(request: HttpRequest) -> JsonResponse:
    session_id = int(request.POST.get("session", "0") or 0)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM outreach_outreachsession WHERE id = %s FOR UPDATE", [session_id]
        )
        cursor.execute(
            "INSERT INTO bench_baseline (session_id, created_at) VALUES (%s, now()) RETURNING id",
            [session_id],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [
    path("bench/baseline/", baseline),
    path("", include("config.urls")),
]
