"""The directory of destinations, with Open Referral UK (HSDS 3) import and export."""

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, parsers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clinics.api.common import ActionPermission
from referrals import openreferral
from referrals.api import serializers as s
from referrals.api.views import ERRORS
from referrals.permissions import destinations_for


class RawJSONParser(parsers.BaseParser):
    """Hand the import the bytes, so a malformed file gets the import's own clear error."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return stream.read()


class DestinationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The directory of NHS and community services people are referred on to."""

    serializer_class = s.DestinationSerializer
    permission_classes = [ActionPermission]
    action_permissions = {
        "import_directory": "referrals.add_destination",
        "export": "referrals.view_destination",
    }
    filterset_fields = ["category", "route", "is_active"]
    ordering_fields = ["name", "response_target_days"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet:
        queryset = destinations_for(self.request.user)
        search = self.request.query_params.get("search", "").strip()
        if search:
            queryset = queryset.filter(Q(name__icontains=search) | Q(provider__icontains=search))
        area = self.request.query_params.get("area", "").strip()
        if area:
            queryset = queryset.filter(area__icontains=area)
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Part of the name or the provider."),
            OpenApiParameter("area", str, description="Part of the area served."),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        description="The directory as an Open Referral UK (HSDS 3) page of services.",
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def export(self, request: Request) -> Response:
        return Response(openreferral.export_directory(destinations_for(request.user)))

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: s.ImportResultSerializer, 400: ERRORS[400]},
        description="Create or update destinations from an Open Referral UK (HSDS 3) JSON "
        "document (a page with `contents`, or a list of services). All or nothing: a "
        "malformed file changes nothing.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[RawJSONParser, parsers.MultiPartParser],
    )
    def import_directory(self, request: Request) -> Response:
        if not request.user.has_perm("referrals.change_destination"):
            raise exceptions.PermissionDenied()
        raw = request.data
        if not isinstance(raw, bytes):
            upload = request.FILES.get("file")
            if upload is None:
                raise openreferral.ImportFileError("Send the JSON as the body or as `file`.")
            raw = upload.read()
        return Response(openreferral.import_directory(raw))
