"""The coordinator's planner and message log: included from config/urls.py."""

from django.urls import path

from outreach.web import messages, planner

urlpatterns = [
    path("planner/", planner.planner, name="planner"),
    path("planner/series/new/", planner.series_create, name="planner-series-create"),
    path("planner/series/<int:pk>/", planner.series_detail, name="planner-series"),
    path("planner/sessions/<int:pk>/", planner.session_detail, name="planner-session"),
    path(
        "planner/sessions/<int:pk>/cancel/", planner.session_cancel, name="planner-session-cancel"
    ),
    path("messages/", messages.message_log, name="message-log"),
    path("messages/<int:pk>/resend/", messages.message_resend, name="message-log-resend"),
]
