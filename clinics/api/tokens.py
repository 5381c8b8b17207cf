"""API tokens over the API: making, listing and revoking them (the bearer check is in
clinics/api/authentication.py)."""

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from clinics import tokens, two_factor
from clinics.api.common import validated_input
from clinics.models import ApiToken
from clinics.permissions import api_tokens_for


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "clinics.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from POST /api/v1/tokens/: `Bearer otk_...`.",
        }


class TokenCreateThrottle(UserRateThrottle):
    """New tokens per user (REST_FRAMEWORK's `token-create` rate), counted in the shared cache."""

    scope = "token-create"


class ApiTokenSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(read_only=True, help_text="The start of the token, to spot it.")
    username = serializers.CharField(source="user.username", read_only=True)
    revoked_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "user",
            "username",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "revoked_by",
            "status",
        ]
        read_only_fields = fields

    def get_status(self, token: ApiToken) -> str:
        """`active`, `expired` or `revoked`."""
        return token.status_at(self.context["now"])


class NewApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The whole token. Shown only now: keep it somewhere safe."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class CreateApiTokenInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_in_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=settings.OUTREACH_API_TOKEN_MAX_DAYS,
        help_text=f"Default {settings.OUTREACH_API_TOKEN_DAYS}.",
    )
    password = serializers.CharField(
        required=False, write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )
    otp_code = serializers.CharField(
        required=False,
        write_only=True,
        max_length=20,
        help_text="Instead of the password: a code from your authenticator app.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("password") and not data.get("otp_code"):
            raise serializers.ValidationError(
                {"password": ["Enter your password again (or an authenticator code)."]}
            )
        return data


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"
    default_detail = "Too many wrong passwords: this account is locked for a while."


_ERRORS = {
    400: OpenApiResponse(description="Invalid input, or the password or code is not right."),
    401: OpenApiResponse(
        description="Not signed in, or the bearer token is refused: `code` is `token_invalid`, "
        "`token_expired`, `token_revoked` or `token_user_inactive`."
    ),
    403: OpenApiResponse(
        description="`two_factor_required`: finish two-factor sign-in first; "
        "`session_required`: tokens are made from a signed-in session, not with a token."
    ),
    429: OpenApiResponse(
        description="`throttled`: too many new tokens; `locked_out`: too many wrong passwords."
    ),
}


@extend_schema_view(
    list=extend_schema(responses={200: ApiTokenSerializer, 401: _ERRORS[401]}),
    retrieve=extend_schema(
        responses={
            200: ApiTokenSerializer,
            401: _ERRORS[401],
            404: OpenApiResponse(description="Not found, or not yours."),
        }
    ),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your API tokens (an admin sees their organisation's), newest first.

    A token is shown in full only in the answer to the POST that makes it.
    """

    serializer_class = ApiTokenSerializer
    filterset_fields = ["user"]
    ordering_fields = ["created_at", "expires_at", "last_used_at"]

    def get_queryset(self) -> Any:
        return api_tokens_for(self.request.user).order_by("-created_at", "-id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_throttles(self) -> list[Any]:
        if self.action == "create":
            return [TokenCreateThrottle()]
        return super().get_throttles()

    @extend_schema(
        request=CreateApiTokenInputSerializer,
        responses={201: NewApiTokenSerializer, **_ERRORS},
        # A session only: a token cannot make tokens.
        auth=[{"cookieAuth": []}],
    )
    def create(self, request: Request) -> Response:
        """Make a token: give your password again (or an authenticator code).

        Only from a signed-in session (a token cannot make tokens); coordinators and admins
        must have finished two-factor sign-in.
        """
        if not isinstance(request.successful_authenticator, SessionAuthentication):
            raise exceptions.PermissionDenied(
                "Make tokens from a signed-in session, not with another token.",
                code="session_required",
            )
        data = validated_input(CreateApiTokenInputSerializer, request)
        self._check_presence(request, data)
        new = tokens.create_api_token(
            request.user, name=data["name"], days=data.get("expires_in_days")
        )
        new.token.token = new.secret
        body = NewApiTokenSerializer(new.token, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def _check_presence(self, request: Request, data: dict[str, Any]) -> None:
        """The person at the keyboard is the account holder: a password or a fresh code."""
        user = request.user
        if data.get("password"):
            # Through authenticate(), so django-axes counts a wrong password towards lockout.
            django_request = request._request
            checked = authenticate(
                django_request, username=user.get_username(), password=data["password"]
            )
            if getattr(django_request, "axes_locked_out", False):
                raise LockedOut()
            if checked is None or checked.pk != user.pk:
                raise serializers.ValidationError({"password": ["The password is not right."]})
            return
        if two_factor.verify_code(user, data["otp_code"]) is None:
            raise serializers.ValidationError(
                {"otp_code": ["The code is not right, or was already used."]}
            )

    @extend_schema(
        request=None,
        responses={
            200: ApiTokenSerializer,
            401: _ERRORS[401],
            404: OpenApiResponse(description="Not found, or not yours."),
        },
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: Any = None) -> Response:
        """Stop a token working at once. Revoking a revoked token changes nothing."""
        token = tokens.revoke_api_token(self.get_object(), by=request.user)
        return Response(ApiTokenSerializer(token, context=self.get_serializer_context()).data)
