"""The MailChimp streams: collections read with count/offset paging.

Python ``HttpStream``s rather than a declarative manifest, for throughput: see README.md.
Incremental streams read only what changed, with MailChimp's server-side ``since_*`` filters.
"""

from collections.abc import Iterable, Mapping, MutableMapping
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from connector_kit.http import ApiStream, parse_page
from connector_kit.incremental import IncrementalApiStream
from connector_kit.schemas import date_time_fields
from requests.auth import AuthBase

from source_mailchimp import schemas


class MailchimpStream(ApiStream):
    """A collection: ``GET <path>?count=&offset=`` -> ``{<envelope_key>: [...], total_items}``."""

    envelope_key: str
    json_schema: Mapping[str, Any]
    # The query parameter that asks only for items whose cursor is at or after a slice's ``since``
    # (incremental streams only).
    since_param: str | None = None

    def __init__(self, base_url: str, authenticator: AuthBase, page_size: int) -> None:
        # Set by parse_response, read by next_page_token: the CDK calls them in that order on each
        # page, and keeping the counts avoids parsing the body twice.
        self._last_page: tuple[int, int | None] = (0, None)
        super().__init__(base_url, authenticator, page_size)

    def request_params(
        self,
        stream_state: Mapping[str, Any] | None,
        stream_slice: Mapping[str, Any] | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> MutableMapping[str, Any]:
        # ``_links`` (HATEOAS links on every item) is most of a page's bytes and nobody reads it.
        params: MutableMapping[str, Any] = {
            "count": self.page_size,
            "offset": 0,
            "exclude_fields": f"_links,{self.envelope_key}._links",
        }
        if next_page_token:
            params.update(next_page_token)
        if self.since_param and stream_slice and stream_slice.get("since"):
            params[self.since_param] = stream_slice["since"]
        return params

    def parse_response(self, response: requests.Response, **_: Any) -> Iterable[Mapping[str, Any]]:
        items, body = parse_page(response, self.envelope_key, "MailChimp")
        total = body.get("total_items")
        self._last_page = (len(items), total if isinstance(total, int) else None)
        for field in self._empty_when_unset:
            for item in items:
                if item.get(field) == "":
                    item[field] = None
        return items

    @cached_property
    def _empty_when_unset(self) -> tuple[str, ...]:
        """Date-time fields MailChimp sends as "" when unset (``send_time`` of a draft)."""
        return date_time_fields(self.json_schema)

    def next_page_token(self, response: requests.Response) -> Mapping[str, Any] | None:
        """Next offset, or None after a short page or once ``offset >= total_items``."""
        count, total = self._last_page
        offset = int(dict(parse_qsl(urlsplit(response.request.url).query)).get("offset", 0))
        next_offset = offset + count
        if count < self.page_size or (total is not None and next_offset >= total):
            return None
        return {"offset": next_offset}

    def records(self) -> Iterable[Mapping[str, Any]]:
        """The stream's records without the log messages the CDK interleaves (for parents)."""
        for record in self.read_only_records():
            if isinstance(record, Mapping):
                yield record


class Lists(MailchimpStream):
    """Audiences: ``GET /lists``. Full refresh: a handful of rows whose stats change every day."""

    name = "lists"
    primary_key = "id"
    envelope_key = "lists"
    json_schema = schemas.LISTS

    def path(self, **_: Any) -> str:
        return "lists"


class Campaigns(MailchimpStream):
    """Campaigns: ``GET /campaigns``, optionally of one ``status`` only (a server-side filter).

    Full refresh on purpose: a campaign changes after it is created (``save`` -> ``sent``, its
    ``report_summary`` grows for weeks), and neither ``since_create_time`` nor
    ``since_send_time`` would see those changes. A few hundred campaigns are one page.
    """

    name = "campaigns"
    primary_key = "id"
    envelope_key = "campaigns"
    json_schema = schemas.CAMPAIGNS

    def __init__(self, *args: Any, status: str | None = None, **kwargs: Any) -> None:
        self._status = status
        super().__init__(*args, **kwargs)

    def path(self, **_: Any) -> str:
        return "campaigns"

    def request_params(self, *args: Any, **kwargs: Any) -> MutableMapping[str, Any]:
        params = super().request_params(*args, **kwargs)
        if self._status:
            params["status"] = self._status
        return params

    def parse_response(self, response: requests.Response, **_: Any) -> Iterable[Mapping[str, Any]]:
        campaigns = super().parse_response(response)
        if self._status:  # the filter is also applied here, in case a server ignores it
            return [c for c in campaigns if c.get("status") == self._status]
        return campaigns


class Reports(MailchimpStream):
    """Campaign reports: ``GET /reports``. Full refresh: a report's counts grow for weeks."""

    name = "reports"
    primary_key = "id"
    envelope_key = "reports"
    json_schema = schemas.REPORTS

    def path(self, **_: Any) -> str:
        return "reports"


class ChildStream(MailchimpStream):
    """A collection per parent object: ``path_template`` names the parent's id slot."""

    path_template: str
    has_multiple_slices = True

    def __init__(self, parent: MailchimpStream, **kwargs: Any) -> None:
        self.parent = parent
        super().__init__(**kwargs)

    def partitions(self) -> Iterable[str]:
        # Only the id goes into the slice: a whole parent record would be copied into every log.
        for record in self.parent.records():
            yield record["id"]

    def path(self, *, stream_slice: Mapping[str, Any] | None = None, **_: Any) -> str:
        return self.path_template.format(**(stream_slice or {}))


class ListMembers(ChildStream, IncrementalApiStream):
    """Members of every audience, incremental on ``last_changed`` with a cursor per audience."""

    name = "list_members"
    primary_key = ["id", "list_id"]
    envelope_key = "members"
    json_schema = schemas.LIST_MEMBERS
    path_template = "lists/{list_id}/members"
    partition_key = "list_id"
    cursor_field = "last_changed"
    since_param = "since_last_changed"


class Segments(ChildStream, IncrementalApiStream):
    """Segments of every audience, incremental on ``updated_at`` with a cursor per audience."""

    name = "segments"
    primary_key = ["id", "list_id"]
    envelope_key = "segments"
    json_schema = schemas.SEGMENTS
    path_template = "lists/{list_id}/segments"
    partition_key = "list_id"
    cursor_field = "updated_at"
    since_param = "since_updated_at"


class Tags(ChildStream):
    """Tags of every audience: ``GET /lists/{list_id}/tag-search``. Full refresh (no filter)."""

    name = "tags"
    primary_key = ["id", "list_id"]
    envelope_key = "tags"
    json_schema = schemas.TAGS
    path_template = "lists/{list_id}/tag-search"
    partition_key = "list_id"

    def parse_response(
        self, response: requests.Response, stream_slice: Mapping[str, Any] | None = None, **_: Any
    ) -> Iterable[Mapping[str, Any]]:
        # A tag is {id, name}: the audience it belongs to is only in the URL.
        tags = super().parse_response(response)
        for tag in tags:
            tag["list_id"] = stream_slice["list_id"]
        return tags


class Unsubscribes(ChildStream):
    """Who unsubscribed from each sent campaign. Full refresh: the endpoint has no filter."""

    name = "unsubscribes"
    primary_key = ["campaign_id", "email_id"]
    envelope_key = "unsubscribes"
    json_schema = schemas.UNSUBSCRIBES
    path_template = "reports/{campaign_id}/unsubscribed"
    partition_key = "campaign_id"


class EmailActivity(ChildStream, IncrementalApiStream):
    """Opens, clicks and bounces of every sent campaign, one record per event.

    ``GET /reports/{campaign_id}/email-activity`` answers one item per recipient with a nested
    ``activity`` list; flattening it here gives the lake a row per event, keyed by
    (campaign_id, email_id, action, timestamp). A recipient with no activity yields nothing.
    Incremental on the event ``timestamp`` (``since``), with a cursor per campaign.
    """

    name = "email_activity"
    primary_key = ["campaign_id", "email_id", "action", "timestamp"]
    envelope_key = "emails"
    json_schema = schemas.EMAIL_ACTIVITY
    path_template = "reports/{campaign_id}/email-activity"
    partition_key = "campaign_id"
    cursor_field = "timestamp"
    since_param = "since"

    def parse_response(self, response: requests.Response, **_: Any) -> Iterable[Mapping[str, Any]]:
        for email in super().parse_response(response):
            for event in email.get("activity") or ():
                yield {
                    "campaign_id": email.get("campaign_id"),
                    "list_id": email.get("list_id"),
                    "list_is_active": email.get("list_is_active"),
                    "email_id": email.get("email_id"),
                    "email_address": email.get("email_address"),
                    "action": event.get("action"),
                    "type": event.get("type"),
                    "timestamp": event.get("timestamp"),
                    "url": event.get("url"),
                    "ip": event.get("ip"),
                }
