"""Every API endpoint, read from the URL resolver, so tests cover new ones without being told."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

API_PREFIX = "api/v1/"
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # "/api/v1/patients/{pk}/"
    name: str  # the URL name, "patient-detail"
    view: Any  # the view class
    action: str | None  # the viewset action, "retrieve"

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def basename(self) -> str:
        """The record a route is about: "patient-detail" -> "patient", "api-job-detail" -> "job"."""
        return self.name.removeprefix("api-").split("-")[0]

    @property
    def is_detail(self) -> bool:
        return "{pk}" in self.path


def _readable(regex: str) -> str:
    return _GROUP.sub(r"{\1}", regex).lstrip("^").rstrip("$").replace("\\", "")


def _walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + _readable(str(pattern.pattern)))
        elif isinstance(pattern, URLPattern):
            yield prefix + _readable(str(pattern.pattern)), pattern


def api_endpoints() -> list[Endpoint]:
    """(method, path) for every route under /api/v1/, with its view and action."""
    found = []
    for path, pattern in _walk(get_resolver().url_patterns, ""):
        if not path.startswith(API_PREFIX):
            continue
        callback = pattern.callback
        view = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None)
        if actions:
            methods = dict(actions)
        else:
            methods = {
                method: None
                for method in view.http_method_names
                if method not in {"options", "head"} and hasattr(view, method)
            }
        for method, action in sorted(methods.items()):
            if method in {"options", "head"} or method not in view.http_method_names:
                continue
            found.append(Endpoint(method.upper(), "/" + path, pattern.name, view, action))
    return sorted(found, key=lambda e: (e.path, e.method))
