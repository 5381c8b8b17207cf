"""Bearer-token authentication for the API.

Kept apart from the token views: DRF imports its authentication classes while it is itself
being imported, so this module must not import views or viewsets.
"""

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from clinics import tokens
from clinics.models import ApiToken


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer otk_...`: a refused token is a 401 whose `code` says why."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            token = tokens.authenticate_token(raw.strip())
        except tokens.TokenRefused as refused:
            raise exceptions.AuthenticationFailed(refused.detail, code=refused.code) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
