"""MailChimp Marketing API v3 endpoints under ``/3.0/``: auth, paging, filters, field selection."""

import base64
import binascii
import hmac
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from testbench.mock_apis import mailchimp, mailchimp_reports, mailchimp_segments
from testbench.mock_apis.model import AudienceList, Campaign
from testbench.mock_apis.responses import (
    BadRequest,
    JSONResponse,
    NotFound,
    int_param,
    is_selected,
    list_param,
    mailchimp_problem,
    select_fields,
)
from testbench.mock_apis.timeline import parse_time
from testbench.mock_apis.world import MEMBER_STATUSES, World

MAX_COUNT = 1000
# Every status the real API knows; the world only has the first three, the others match nothing.
KNOWN_STATUSES = (*MEMBER_STATUSES, "pending", "transactional", "archived")

Payload = dict[str, Any]
Handler = Callable[[Request, World], Payload]


def _api_key(request: Request) -> str | None:
    """The password of HTTP Basic auth (MailChimp ignores the username), or None if absent."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with MailChimp's auth, its limit of simultaneous requests per key, its error
    bodies and ``fields``/``exclude_fields``. The handler runs in a worker thread."""

    async def endpoint(request: Request) -> Response:
        key = _api_key(request)
        if key is None:
            return mailchimp_problem(
                401, "API Key Missing", "Your request did not include an API key."
            )
        if not hmac.compare_digest(key.encode(), request.app.state.mailchimp_api_key.encode()):
            return mailchimp_problem(
                401,
                "API Key Invalid",
                "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
            )
        in_flight: Counter[str] = request.app.state.mailchimp_in_flight
        if in_flight[key] >= request.app.state.mailchimp_max_connections:
            return mailchimp_problem(
                429,
                "Too Many Requests",
                "You have exceeded the limit of 10 simultaneous connections.",
            )
        in_flight[key] += 1  # the event loop is one thread: no lock needed
        try:
            return await run_in_threadpool(_answer, handler, request, request.app.state.world)
        finally:
            in_flight[key] -= 1

    return endpoint


def _answer(handler: Handler, request: Request, world: World) -> Response:
    try:
        payload = handler(request, world)
    except BadRequest as error:
        return mailchimp_problem(400, "Invalid Resource", str(error))
    except NotFound:
        return mailchimp_problem(
            404, "Resource Not Found", "The requested resource could not be found."
        )
    fields, exclude = list_param(request, "fields"), list_param(request, "exclude_fields")
    return JSONResponse(select_fields(payload, fields, exclude))


def _paging(request: Request) -> tuple[int, int]:
    count = int_param(request, "count", 10)
    if count > MAX_COUNT:
        raise BadRequest(f"count must be at most {MAX_COUNT}")
    return count, int_param(request, "offset", 0)


def _time_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return parse_time(raw)
    except ValueError:
        raise BadRequest(f"{name} is not a valid timestamp") from None


def ping(request: Request, world: World) -> Payload:
    return {"health_status": "Everything's Chimpy!"}


def lists(request: Request, world: World) -> Payload:
    count, offset = _paging(request)
    items = [mailchimp.audience(world, item) for item in world.lists]
    return {"lists": items[offset : offset + count], "total_items": len(items), "_links": []}


def _audience_or_404(request: Request, world: World) -> AudienceList:
    item = world.list_by_id(request.path_params["list_id"])
    if item is None:
        raise NotFound
    return item


def one_list(request: Request, world: World) -> Payload:
    return mailchimp.audience(world, _audience_or_404(request, world))


def members(request: Request, world: World) -> Payload:
    """Members with ``status`` and ``since_last_changed`` filters (see ``World.select_members``)."""
    item = _audience_or_404(request, world)
    count, offset = _paging(request)
    status = request.query_params.get("status")
    if status and status not in KNOWN_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(KNOWN_STATUSES)}")
    statuses = (status,) if status else MEMBER_STATUSES
    since = _time_param(request, "since_last_changed")
    selection = world.select_members(item.index, statuses, since)
    total = len(selection)
    page = [
        mailchimp.member(world, item, selection.offset(n))
        for n in range(offset, min(offset + count, total))
    ]
    return {"members": page, "list_id": item.id, "total_items": total, "_links": []}


def campaigns(request: Request, world: World) -> Payload:
    """Campaigns in creation order, with the real API's status, list and time filters."""
    count, offset = _paging(request)
    status = request.query_params.get("status")
    list_id = request.query_params.get("list_id")
    since_send = _time_param(request, "since_send_time")
    before_send = _time_param(request, "before_send_time")
    since_create = _time_param(request, "since_create_time")
    before_create = _time_param(request, "before_create_time")
    selected = []
    for item in world.campaigns:
        if status and ("sent" if item.is_sent else "save") != status:
            continue
        if list_id and world.lists[item.list_index].id != list_id:
            continue
        if (since_send is not None or before_send is not None) and not item.is_sent:
            continue
        if since_send is not None and item.send_ts < since_send:
            continue
        if before_send is not None and item.send_ts >= before_send:
            continue
        if since_create is not None and item.create_ts < since_create:
            continue
        if before_create is not None and item.create_ts >= before_create:
            continue
        selected.append(item)
    with_report = _report_wanted(request, "campaigns.report_summary")
    page = [
        mailchimp.campaign(world, item, with_report) for item in selected[offset : offset + count]
    ]
    return {"campaigns": page, "total_items": len(selected), "_links": []}


def _report_wanted(request: Request, path: str) -> bool:
    fields, exclude = list_param(request, "fields"), list_param(request, "exclude_fields")
    return is_selected(path, fields, exclude)


def _campaign_or_404(request: Request, world: World) -> Campaign:
    item = world.campaign_by_id(request.path_params["campaign_id"])
    if item is None:
        raise NotFound
    return item


def one_campaign(request: Request, world: World) -> Payload:
    item = _campaign_or_404(request, world)
    return mailchimp.campaign(world, item, _report_wanted(request, "report_summary"))


def email_activity(request: Request, world: World) -> Payload:
    """Every recipient of the campaign, with their events (an empty ``activity`` if none);
    ``since`` keeps only the events at or after it."""
    item = _campaign_or_404(request, world)
    count, offset = _paging(request)
    since = _time_param(request, "since")
    total = item.emails_sent
    page = [
        mailchimp.email_activity(world, item, n, since)
        for n in range(offset, min(offset + count, total))
    ]
    return {"emails": page, "campaign_id": item.id, "total_items": total, "_links": []}


def reports(request: Request, world: World) -> Payload:
    """Reports of sent campaigns, in send order, with ``since_send_time``/``before_send_time``."""
    count, offset = _paging(request)
    since = _time_param(request, "since_send_time")
    before = _time_param(request, "before_send_time")
    selected = [
        item
        for item in world.campaigns
        if item.is_sent
        and (since is None or item.send_ts >= since)
        and (before is None or item.send_ts < before)
    ]
    page = [mailchimp_reports.report(world, item) for item in selected[offset : offset + count]]
    return {"reports": page, "total_items": len(selected), "_links": []}


def _sent_campaign_or_404(request: Request, world: World) -> Campaign:
    item = _campaign_or_404(request, world)
    if not item.is_sent:
        raise NotFound  # drafts have no report
    return item


def _no_campaign_activity(item: Campaign, key: str) -> Payload | None:
    """A draft's report lists (unsubscribes): MailChimp answers them empty, never 404."""
    if item.is_sent:
        return None
    return {key: [], "campaign_id": item.id, "total_items": 0, "_links": []}


def one_report(request: Request, world: World) -> Payload:
    return mailchimp_reports.report(world, _sent_campaign_or_404(request, world))


def unsubscribed(request: Request, world: World) -> Payload:
    item = _campaign_or_404(request, world)
    if (empty := _no_campaign_activity(item, "unsubscribes")) is not None:
        return empty
    count, offset = _paging(request)
    offsets = world.unsubscribes(item)
    page = [mailchimp_reports.unsubscribe(world, item, n) for n in offsets[offset : offset + count]]
    return {"unsubscribes": page, "campaign_id": item.id, "total_items": len(offsets), "_links": []}


def segments(request: Request, world: World) -> Payload:
    """Segments with ``since_created_at``/``since_updated_at`` (and the ``before_`` pair)."""
    item = _audience_or_404(request, world)
    count, offset = _paging(request)
    bounds = {
        name: _time_param(request, name)
        for name in (
            "since_created_at",
            "before_created_at",
            "since_updated_at",
            "before_updated_at",
        )
    }
    selected = []
    for segment in mailchimp_segments.segments(world, item):
        created, updated = parse_time(segment["created_at"]), parse_time(segment["updated_at"])
        if _within(created, bounds["since_created_at"], bounds["before_created_at"]) and _within(
            updated, bounds["since_updated_at"], bounds["before_updated_at"]
        ):
            selected.append(segment)
    page = selected[offset : offset + count]
    return {"segments": page, "list_id": item.id, "total_items": len(selected), "_links": []}


def _within(ts: int, since: int | None, before: int | None) -> bool:
    return (since is None or ts >= since) and (before is None or ts < before)


def tag_search(request: Request, world: World) -> Payload:
    _audience_or_404(request, world)
    found = mailchimp_segments.tags(request.query_params.get("name", ""))
    return {"tags": found, "total_items": len(found)}


def segment_members(request: Request, world: World) -> Payload:
    """A saved segment's members: none, as its ``member_count`` says (the mock does not
    evaluate segment conditions)."""
    item = _audience_or_404(request, world)
    wanted = request.path_params["segment_id"]
    if not any(str(s["id"]) == wanted for s in mailchimp_segments.segments(world, item)):
        raise NotFound
    return {"members": [], "total_items": 0, "_links": []}


def interest_categories(request: Request, world: World) -> Payload:
    """An audience's groups (interest categories): the world's audiences have none."""
    item = _audience_or_404(request, world)
    return {"list_id": item.id, "categories": [], "total_items": 0, "_links": []}


def interests(request: Request, world: World) -> Payload:
    _audience_or_404(request, world)
    raise NotFound  # no interest category exists, so none of its interests does


def automations(request: Request, world: World) -> Payload:
    """Classic automations: the account has none (it sends regular campaigns only)."""
    return {"automations": [], "total_items": 0, "_links": []}


def not_found(request: Request, world: World) -> Payload:
    raise NotFound


def routes() -> list[Route]:
    return [
        Route("/3.0/ping", _endpoint(ping)),
        Route("/3.0/lists", _endpoint(lists)),
        Route("/3.0/lists/{list_id}", _endpoint(one_list)),
        Route("/3.0/lists/{list_id}/members", _endpoint(members)),
        Route("/3.0/campaigns", _endpoint(campaigns)),
        Route("/3.0/campaigns/{campaign_id}", _endpoint(one_campaign)),
        Route("/3.0/lists/{list_id}/segments", _endpoint(segments)),
        Route("/3.0/lists/{list_id}/segments/{segment_id}/members", _endpoint(segment_members)),
        Route("/3.0/lists/{list_id}/interest-categories", _endpoint(interest_categories)),
        Route(
            "/3.0/lists/{list_id}/interest-categories/{category_id}/interests",
            _endpoint(interests),
        ),
        Route("/3.0/automations", _endpoint(automations)),
        Route("/3.0/lists/{list_id}/tag-search", _endpoint(tag_search)),
        Route("/3.0/reports", _endpoint(reports)),
        Route("/3.0/reports/{campaign_id}", _endpoint(one_report)),
        Route("/3.0/reports/{campaign_id}/email-activity", _endpoint(email_activity)),
        Route("/3.0/reports/{campaign_id}/unsubscribed", _endpoint(unsubscribed)),
        Route("/3.0/{path:path}", _endpoint(not_found)),
    ]
