"""HubSpot endpoints: CRM v3 objects (listed, by id, searched), properties (v3 and the legacy v2),
owners, pipelines, associations v4, and the legacy marketing email events."""

import base64
import binascii
import hmac
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from testbench.mock_apis import (
    hubspot,
    hubspot_account,
    hubspot_email_events,
    hubspot_search,
    hubspot_unused,
)
from testbench.mock_apis.rate_limits import HubSpotLimits
from testbench.mock_apis.responses import (
    BadRequest,
    JSONResponse,
    NotFound,
    hubspot_error,
    int_param,
    list_param,
)
from testbench.mock_apis.world import World

MAX_LIMIT = 100
MAX_EVENTS_LIMIT = 1000

Payload = Any  # a JSON document: an object, or the legacy v2 endpoints' bare arrays
Handler = Callable[[Request, World], Payload]
# Associations v4 type ids of HubSpot's default ("Primary") associations, by (from, to).
ASSOCIATION_TYPE_IDS = {
    (hubspot.CONTACTS, hubspot.COMPANIES): 1,
    (hubspot.COMPANIES, hubspot.CONTACTS): 2,
    (hubspot.DEALS, hubspot.CONTACTS): 3,
    (hubspot.CONTACTS, hubspot.DEALS): 4,
    (hubspot.DEALS, hubspot.COMPANIES): 5,
    (hubspot.COMPANIES, hubspot.DEALS): 6,
}


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with Bearer auth, a parsed JSON body (``request.state.body``) and HubSpot's
    error bodies. The handler runs in a worker thread: pages are CPU work."""

    async def endpoint(request: Request) -> Response:
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
        limits: HubSpotLimits = request.app.state.hubspot_limits
        broken, headers = limits.check(token.strip(), request.url.path.endswith("/search"))
        if broken is not None:
            response = rate_limited(broken)
        else:
            response = await _answer(handler, request)
        response.headers.update(headers)
        return response

    return endpoint


async def _answer(handler: Handler, request: Request) -> Response:
    try:
        if request.method == "POST":
            request.state.body = _json_object(await request.body())
        world = request.app.state.world
        return JSONResponse(await run_in_threadpool(handler, request, world))
    except BadRequest as error:
        return hubspot_error(400, str(error), "VALIDATION_ERROR")
    except NotFound:
        return hubspot_error(404, "resource not found", "OBJECT_NOT_FOUND")


def rate_limited(policy: str) -> Response:
    """HubSpot's 429 body, naming the policy that was broken."""
    limit = "ten_secondly_rolling" if policy == "TEN_SECONDLY_ROLLING" else "secondly"
    body = {
        "status": "error",
        "message": f"You have reached your {limit} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
    }
    return JSONResponse(body, 429)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        raise BadRequest("Invalid input JSON: the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise BadRequest("Invalid input JSON: the body must be an object")
    return document


def _object_type(request: Request, parameter: str = "object_type") -> str:
    name = request.path_params[parameter]
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


def _unused(request: Request) -> str | None:
    """The standard object type in the path if the portal has none of it (see hubspot_unused)."""
    return hubspot_unused.unused_type(request.path_params["object_type"])


def list_objects(request: Request, world: World) -> Payload:
    if _unused(request):
        return {"results": []}
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
        total = world.contact_records if object_type == hubspot.CONTACTS else world.company_count
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
    if _unused(request):
        raise NotFound
    object_type = _object_type(request)
    names, associations = _render_arguments(request, object_type)
    record = hubspot.find(world, object_type, request.path_params["object_id"], names, associations)
    if record is None:
        raise NotFound
    return record


def properties(request: Request, world: World) -> Payload:
    return {"results": legacy_properties(request, world)}


def legacy_properties(request: Request, world: World) -> Payload:
    """``/properties/v2/{type}/properties``: the same definitions as a bare JSON array."""
    if unused := _unused(request):
        return hubspot_unused.properties(unused)
    object_type = _object_type(request)
    return [
        hubspot.property_definition(definition, object_type)
        for definition in hubspot.PROPERTY_CATALOG[object_type]
    ]


def search(request: Request, world: World) -> Payload:
    if _unused(request):
        return {"total": 0, "results": []}
    return hubspot_search.search(world, _object_type(request), request.state.body)


def owners(request: Request, world: World) -> Payload:
    if request.query_params.get("archived", "false").lower() == "true":
        return {"results": []}  # no owner ever left the portal
    return {"results": hubspot_account.owners(world)}


def pipelines(request: Request, world: World) -> Payload:
    if hubspot_unused.unused_type(request.path_params["object_type"]) == "tickets":
        return {"results": []}
    if request.path_params["object_type"] not in ("deals", "deal", "0-3"):
        raise NotFound
    return {"results": hubspot_account.deal_pipelines()}


def associations(request: Request, world: World) -> Payload:
    """Associations v4 batch read: each input id with the ids it is associated with."""
    names = request.path_params["from_type"], request.path_params["to_type"]
    if any(hubspot_unused.unused_type(name) for name in names):
        return {"status": "COMPLETE", "results": []}  # no such records, so no associations
    from_type, to_type = _object_type(request, "from_type"), _object_type(request, "to_type")
    type_id = ASSOCIATION_TYPE_IDS.get((from_type, to_type))
    if type_id is None:  # a pair HubSpot defines (contact to contact, say) the world never links
        return {"status": "COMPLETE", "results": []}
    inputs = request.state.body.get("inputs") or []
    ids = [str(item.get("id", "")) if isinstance(item, dict) else str(item) for item in inputs]
    linked = hubspot.associated_ids(world, from_type, to_type, ids)
    label = {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": "Primary"}
    results = [
        {
            "from": {"id": object_id},
            "to": [{"toObjectId": int(to_id), "associationTypes": [label]} for to_id in found],
        }
        for object_id, found in linked.items()
        if found
    ]
    return {"status": "COMPLETE", "results": results}


def email_events(request: Request, world: World) -> Payload:
    """Legacy marketing email events: a time window, then ``limit``/``offset`` within it."""
    start = int_param(request, "startTimestamp", 0)
    end = int_param(request, "endTimestamp", world.now_ts * 1000)
    limit = min(max(int_param(request, "limit", 100), 1), MAX_EVENTS_LIMIT)
    offset = int_param(request, "offset", 0)
    events = hubspot_email_events.events_between(world, start, end)
    page = events[offset : offset + limit]
    has_more = offset + limit < len(events)
    return {"events": page, "offset": str(offset + len(page)), "hasMore": has_more}


def legacy_contacts(request: Request, world: World) -> Payload:
    count = min(max(int_param(request, "count", 20), 1), MAX_LIMIT)
    return hubspot_unused.legacy_contacts(world, int_param(request, "vidOffset", 0), count)


def legacy_deal_pipelines(request: Request, world: World) -> Payload:
    return {"results": hubspot_unused.legacy_deal_pipelines()}


def list_search(request: Request, world: World) -> Payload:
    return {"lists": [], "hasMore": False, "offset": 0, "total": 0}


def _empty(path: str) -> Handler:
    answer = hubspot_unused.EMPTY_GETS[path]
    return lambda request, world: answer


def not_found(request: Request, world: World) -> Payload:
    raise NotFound


def routes() -> list[Route]:
    return [
        Route("/crm/v3/objects/{object_type}", _endpoint(list_objects)),
        Route("/crm/v3/objects/{object_type}/{object_id}", _endpoint(one_object)),
        Route("/crm/v3/objects/{object_type}/search", _endpoint(search), methods=["POST"]),
        Route("/crm/v3/properties/{object_type}", _endpoint(properties)),
        Route("/properties/v2/{object_type}/properties", _endpoint(legacy_properties)),
        Route("/crm/v3/owners", _endpoint(owners)),
        Route("/crm/v3/owners/", _endpoint(owners)),
        Route("/crm/v3/pipelines/{object_type}", _endpoint(pipelines)),
        Route(
            "/crm/v4/associations/{from_type}/{to_type}/batch/read",
            _endpoint(associations),
            methods=["POST"],
        ),
        Route("/email/public/v1/events", _endpoint(email_events)),
        *(Route(path, _endpoint(_empty(path))) for path in hubspot_unused.EMPTY_GETS),
        Route("/crm/v3/lists/search", _endpoint(list_search), methods=["POST"]),
        Route("/contacts/v1/lists/all/contacts/all", _endpoint(legacy_contacts)),
        Route("/crm-pipelines/v1/pipelines/deals", _endpoint(legacy_deal_pipelines)),
        Route("/crm/{path:path}", _endpoint(not_found), methods=["GET", "POST"]),
        Route("/properties/{path:path}", _endpoint(not_found)),
        Route("/email/{path:path}", _endpoint(not_found)),
    ]
