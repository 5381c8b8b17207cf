"""Reports as JSON for analysts' own tools, and the background jobs API.

Thin views: read the query or body, call one report or job service, answer.
"""

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, parsers, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.api.common import error_responses, validated_input
from clinics.domain import Conflict
from referrals.api.directory import RawJSONParser
from referrals.jobs import services as jobs
from referrals.jobs.models import BackgroundJob
from referrals.jobs.permissions import get_job_for, jobs_for, may_run
from referrals.reports import REPORTS, Period, UnknownReport, get_report
from referrals.reports.access import can_see_reports
from referrals.reports.splits import SPLITS

ERRORS = error_responses("job_not_finished")

# What an import reads (referrals.openreferral.services_in): an Open Referral UK page, a bare
# `{"services": [...]}`, or the list of services itself; each service is an object.
HSDS_FILE = {
    "oneOf": [
        {
            "type": "object",
            "description": 'An Open Referral UK page (`contents`) or `{"services": [...]}`.',
            "additionalProperties": True,
        },
        {"type": "array", "description": "The services.", "items": {"type": "object"}},
    ]
}
HSDS_UPLOAD = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}},
    "required": ["file"],
}


class CanSeeReports(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return can_see_reports(request.user)


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["count", "rate", "median"])
    help = serializers.CharField()


class ReportTableSerializer(serializers.Serializer):
    """One report split one way. Counts are numbers or "<5"; hidden rates and medians null."""

    report = serializers.CharField()
    title = serializers.CharField()
    split = serializers.CharField()
    # `from` is a Python keyword: declared under another name and renamed below.
    from_ = serializers.DateField()
    to = serializers.DateField()
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.DictField())
    total = serializers.DictField()
    notes = serializers.ListField(child=serializers.CharField())

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class ReportSplitSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    default_split = serializers.CharField()
    splits = ReportSplitSerializer(many=True)
    columns = ColumnSerializer(many=True)


def _report_data(report: Any) -> dict[str, Any]:
    return {
        "name": report.name,
        "title": report.title,
        "summary": report.summary,
        "default_split": report.default_split,
        "splits": [{"key": split.key, "label": split.label} for split in report.splits()],
        "columns": [
            {"key": c.key, "label": c.label, "kind": c.kind, "help": c.help} for c in report.columns
        ],
    }


REPORT_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (London); default: "
                     "the first of the month eleven months ago."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (London), included; "
                     "default: today."),
    OpenApiParameter("by", str, enum=list(SPLITS), description="How to split the report; "
                     "each report lists the splits it has."),
    OpenApiParameter("service", str, description="Screening only: the code of the screening "
                     "service; default: the first service for people with a cervix."),
]  # fmt: skip


class ReportViewSet(viewsets.ViewSet):
    """Aggregates only, scoped to your organisation; counts of 1 to 4 are shown as "<5"."""

    permission_classes = [CanSeeReports]
    lookup_field = "name"
    lookup_value_regex = "[a-z]+"

    @extend_schema(responses={200: ReportSerializer(many=True)})
    def list(self, request: Request) -> Response:
        return Response([_report_data(report) for report in REPORTS.values()])

    @extend_schema(
        parameters=REPORT_PARAMETERS,
        responses={200: ReportTableSerializer, 400: ERRORS[400], 404: ERRORS[404]},
        description="One report over a period, split one way: a row per group and the total. "
        'Counts are integers, or the string "<5" for 1 to 4; rates are 0 to 1 and medians '
        "are days, or null when the small-number rule hides them. See docs/reports.md.",
    )
    def retrieve(self, request: Request, name: str | None = None) -> Response:
        try:
            report = get_report(name or "")
        except UnknownReport:
            raise exceptions.NotFound("There is no such report.") from None
        query = request.query_params
        period = Period.parse(query.get("from"), query.get("to"))
        split_key = query.get("by") or None
        try:
            report.split(split_key)
        except UnknownReport:
            choices = ", ".join(split.key for split in report.splits())
            raise exceptions.ValidationError({"by": [f"Choose one of: {choices}."]}) from None
        options = {"service_code": query.get("service", "")} if report.name == "screening" else {}
        return Response(report.table(request.user, period, split_key, **options).as_json())


class BackgroundJobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    requested_by = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = BackgroundJob
        fields = [
            "id",
            "kind",
            "status",
            "progress_done",
            "progress_total",
            "percent",
            "progress_note",
            "parameters",
            "error_message",
            "result_filename",
            "result_summary",
            "download_url",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_requested_by(self, job: BackgroundJob) -> str:
        user = job.requested_by
        return user.get_full_name() or user.get_username()

    def get_download_url(self, job: BackgroundJob) -> str | None:
        if not job.has_download:
            return None
        return reverse("api-job-download", kwargs={"pk": job.pk})


class ReportExportInputSerializer(serializers.Serializer):
    report = serializers.ChoiceField(choices=list(REPORTS))
    from_ = serializers.DateField(required=False)
    to = serializers.DateField(required=False)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


JOB_DOC = (
    "Answers 202 with the queued job; poll `GET /api/v1/jobs/{id}/` until `status` is `done` "
    "(then fetch `download_url`) or `failed` (`error_message` says why)."
)


class BackgroundJobViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Long actions run by a worker: report exports and directory imports and exports."""

    serializer_class = BackgroundJobSerializer
    filterset_fields = ["kind", "status"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> Any:
        return jobs_for(self.request.user)

    def _refuse_unless(self, kind: str) -> None:
        if not may_run(self.request.user, kind):
            raise exceptions.PermissionDenied()

    def _accepted(self, job: BackgroundJob) -> Response:
        data = BackgroundJobSerializer(job).data
        location = reverse("api-job-detail", kwargs={"pk": job.pk})
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})

    @extend_schema(
        request=ReportExportInputSerializer,
        responses={202: BackgroundJobSerializer, 400: ERRORS[400]},
        description="Export one report, every split, as CSV. " + JOB_DOC,
    )
    @action(detail=False, methods=["post"], url_path="report-export")
    def report_export(self, request: Request) -> Response:
        self._refuse_unless(BackgroundJob.Kind.REPORT_EXPORT)
        data = validated_input(ReportExportInputSerializer, request)
        period = Period.parse(
            str(data["from"]) if data.get("from") else None,
            str(data["to"]) if data.get("to") else None,
        )
        job = jobs.request_report_export(
            request.user, report=data["report"], first_day=period.first_day,
            last_day=period.last_day,
        )  # fmt: skip
        return self._accepted(job)

    @extend_schema(
        request=None,
        responses={202: BackgroundJobSerializer},
        description="Export the destination directory as Open Referral UK (HSDS 3) JSON. "
        + JOB_DOC,
    )
    @action(detail=False, methods=["post"], url_path="directory-export")
    def directory_export(self, request: Request) -> Response:
        self._refuse_unless(BackgroundJob.Kind.DIRECTORY_EXPORT)
        return self._accepted(jobs.request_directory_export(request.user))

    @extend_schema(
        request={"application/json": HSDS_FILE, "multipart/form-data": HSDS_UPLOAD},
        responses={202: BackgroundJobSerializer, 400: ERRORS[400]},
        description="Import an Open Referral UK (HSDS 3) file, sent as the JSON body or as a "
        "`file` upload: all or nothing, as `POST /destinations/import/`. " + JOB_DOC,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="directory-import",
        parser_classes=[RawJSONParser, parsers.MultiPartParser],
    )
    def directory_import(self, request: Request) -> Response:
        self._refuse_unless(BackgroundJob.Kind.DIRECTORY_IMPORT)
        raw = request.data
        if not isinstance(raw, bytes):
            upload = request.FILES.get("file")
            raw = upload.read() if upload is not None else b""
        return self._accepted(jobs.request_directory_import(request.user, raw))

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/json"): OpenApiTypes.BINARY,
            404: ERRORS[404],
            409: OpenApiResponse(description="`job_not_finished`: nothing to download yet."),
        },
        description="The file a finished job made (CSV or JSON), as an attachment.",
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: Any = None) -> HttpResponse:
        return job_file_response(get_job_for(request.user, pk))


def job_file_response(job: BackgroundJob) -> HttpResponse:
    """The job's file as a download, or a 409 if there is none (yet)."""
    if not job.has_download:
        raise Conflict("This job has no file to download yet.", code="job_not_finished")
    response = HttpResponse(job.result_data.encode("utf-8"), content_type=job.result_content_type)
    response["Content-Disposition"] = f'attachment; filename="{job.result_filename}"'
    return response
