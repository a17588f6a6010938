"""HTTP helpers shared by both APIs: fast JSON, each API's error bodies, query parsing, field
selection.
"""

import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

MAILCHIMP_ERROR_DOCS = "https://mailchimp.com/developer/marketing/docs/errors/"


class JSONResponse(Response):
    """orjson is several times faster than the standard library on large pages."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class BadRequest(Exception):
    """Raised by handlers on invalid input; each API turns it into its own 400 body."""


class NotFound(Exception):
    """Raised by handlers for an unknown resource; each API turns it into its own 404 body."""


def mailchimp_problem(status: int, title: str, detail: str) -> Response:
    """An RFC 7807 problem document, as MailChimp sends for every error."""
    body = {
        "type": MAILCHIMP_ERROR_DOCS,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": str(uuid.uuid4()),
    }
    return Response(orjson.dumps(body), status, media_type="application/problem+json")


def hubspot_error(status: int, message: str, category: str) -> Response:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    return JSONResponse(body, status)


def int_param(request: Request, name: str, default: int, minimum: int = 0) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if value < minimum:
        raise BadRequest(f"{name} must be at least {minimum}")
    return value


def list_param(request: Request, name: str) -> list[str]:
    """A parameter given as a comma list, repeated, or both (``a=x,y&a=z`` -> ``[x, y, z]``)."""
    return [
        part.strip()
        for value in request.query_params.getlist(name)
        for part in value.split(",")
        if part.strip()
    ]


def select_fields(document: Any, fields: list[str], exclude: list[str]) -> Any:
    """MailChimp's ``fields`` / ``exclude_fields``: dot paths from the root, through arrays."""
    if fields:
        document = _keep(document, _path_tree(fields))
    if exclude:
        document = _drop(document, _path_tree(exclude))
    return document


def is_selected(path: str, fields: list[str], exclude: list[str]) -> bool:
    """Whether ``fields``/``exclude_fields`` keep the dot path ``path`` in the response.

    Lets a handler skip computing what the client will not receive.
    """
    if any(path == drop or path.startswith(f"{drop}.") for drop in exclude):
        return False
    return not fields or any(
        path == keep or path.startswith(f"{keep}.") or keep.startswith(f"{path}.")
        for keep in fields
    )


def _path_tree(paths: list[str]) -> dict[str, Any]:
    """``["a.b", "a.c", "d"]`` -> ``{"a": {"b": {}, "c": {}}, "d": {}}`` (``{}`` is a leaf)."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})
    return tree


def _keep(value: Any, tree: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_keep(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        name: (_keep(value[name], subtree) if subtree else value[name])
        for name, subtree in tree.items()
        if name in value
    }


def _drop(value: Any, tree: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_drop(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    kept = {}
    for name, item in value.items():
        subtree = tree.get(name)
        if subtree is None:
            kept[name] = item
        elif subtree:
            kept[name] = _drop(item, subtree)
    return kept
