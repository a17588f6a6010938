"""HubSpot CRM v3 endpoints under ``/crm/v3/``: objects (listed and by id), the property catalog."""

import base64
import binascii
import hmac
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_apis import hubspot
from mock_apis.responses import (
    BadRequest,
    JSONResponse,
    NotFound,
    hubspot_error,
    int_param,
    list_param,
)
from mock_apis.world import COMPANY_ID_BASE, CONTACT_ID_BASE, DEAL_ID_BASE, World

MAX_LIMIT = 100

Payload = dict[str, Any]
Handler = Callable[[Request, World], Payload]


def _endpoint(handler: Handler) -> Callable[[Request], Response]:
    """Wrap a handler with Bearer auth and HubSpot's error bodies."""

    def endpoint(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return hubspot_error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication"
                " and you can find more details at"
                " https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        accepted = request.app.state.hubspot_token
        if not hmac.compare_digest(token.strip().encode(), accepted.encode()):
            return hubspot_error(
                401,
                "The access token provided is invalid or has expired.",
                "INVALID_AUTHENTICATION",
            )
        try:
            return JSONResponse(handler(request, request.app.state.world))
        except BadRequest as error:
            return hubspot_error(400, str(error), "VALIDATION_ERROR")
        except NotFound:
            return hubspot_error(404, "resource not found", "OBJECT_NOT_FOUND")

    return endpoint


def _object_type(request: Request) -> str:
    name = request.path_params["object_type"]
    if name not in hubspot.OBJECT_TYPES:
        raise BadRequest(f"Unable to infer object type from: {name}")
    return hubspot.OBJECT_TYPES[name]


def _encode_cursor(position: int) -> str:
    """HubSpot's ``after`` is opaque to clients; here it is the base64 of a position."""
    return base64.urlsafe_b64encode(str(position).encode()).decode()


def _decode_cursor(token: str | None) -> int:
    if not token:
        return 0
    try:
        position = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest(f"Invalid 'after' cursor: {token}") from None
    if position < 0:
        raise BadRequest(f"Invalid 'after' cursor: {token}")
    return position


def _render_arguments(request: Request, object_type: str) -> tuple[tuple[str, ...], set[str]]:
    """The property names to render and the (plural) object types to associate."""
    names = hubspot.select_properties(object_type, list_param(request, "properties"))
    associations = {
        hubspot.OBJECT_TYPES[name]
        for name in list_param(request, "associations")
        if name in hubspot.OBJECT_TYPES
    }
    return names, associations


def list_objects(request: Request, world: World) -> Payload:
    object_type = _object_type(request)
    limit = min(max(int_param(request, "limit", 10), 1), MAX_LIMIT)
    start = _decode_cursor(request.query_params.get("after"))
    names, associations = _render_arguments(request, object_type)
    if request.query_params.get("archived", "false").lower() == "true":
        return {"results": []}  # nothing in the world is ever archived
    next_position: int | None
    if object_type == hubspot.DEALS:
        deals, next_position = world.deals_from(start, limit)
        results = [hubspot.deal(world, item, names, associations) for item in deals]
    else:
        total = world.contact_count if object_type == hubspot.CONTACTS else world.company_count
        render = hubspot.contact if object_type == hubspot.CONTACTS else hubspot.company
        end = min(start + limit, total)
        results = [render(world, index, names, associations) for index in range(start, end)]
        next_position = end if end < total else None
    payload: Payload = {"results": results}
    if next_position is not None:
        after = _encode_cursor(next_position)
        link = str(request.url.include_query_params(after=after))
        payload["paging"] = {"next": {"after": after, "link": link}}
    return payload


def one_object(request: Request, world: World) -> Payload:
    object_type = _object_type(request)
    names, associations = _render_arguments(request, object_type)
    try:
        object_id = int(request.path_params["object_id"])
    except ValueError:
        raise NotFound from None
    if object_type == hubspot.CONTACTS:
        index = object_id - CONTACT_ID_BASE
        if 0 <= index < world.contact_count:
            return hubspot.contact(world, index, names, associations)
    elif object_type == hubspot.COMPANIES:
        index = object_id - COMPANY_ID_BASE
        if 0 <= index < world.company_count:
            return hubspot.company(world, index, names, associations)
    else:
        person = object_id - DEAL_ID_BASE
        deal = world.deal_of(person) if person >= 0 else None
        if deal is not None:
            return hubspot.deal(world, deal, names, associations)
    raise NotFound


def properties(request: Request, world: World) -> Payload:
    object_type = _object_type(request)
    return {
        "results": [
            hubspot.property_definition(definition, object_type)
            for definition in hubspot.PROPERTY_CATALOG[object_type]
        ]
    }


def not_found(request: Request, world: World) -> Payload:
    raise NotFound


def routes() -> list[Route]:
    return [
        Route("/crm/v3/objects/{object_type}", _endpoint(list_objects)),
        Route("/crm/v3/objects/{object_type}/{object_id}", _endpoint(one_object)),
        Route("/crm/v3/properties/{object_type}", _endpoint(properties)),
        Route("/crm/{path:path}", _endpoint(not_found)),
    ]
