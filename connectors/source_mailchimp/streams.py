"""The MailChimp streams: four collections read with count/offset paging.

Python ``HttpStream``s rather than a declarative manifest, for throughput: see README.md.
"""

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from connector_kit.http import ApiStream, parse_page
from requests.auth import AuthBase

from source_mailchimp import schemas


class MailchimpStream(ApiStream):
    """A collection: ``GET <path>?count=&offset=`` -> ``{<envelope_key>: [...], total_items}``."""

    envelope_key: str
    json_schema: Mapping[str, Any]
    # The field a later incremental version will filter and checkpoint on. Not declared as the
    # CDK's ``cursor_field`` yet: that would advertise an incremental sync this slice doesn't do.
    incremental_cursor: str | None = None

    def __init__(self, base_url: str, authenticator: AuthBase, page_size: int) -> None:
        self._base_url = base_url.rstrip("/") + "/"
        self.page_size = page_size
        # Set by parse_response, read by next_page_token: the CDK calls them in that order on each
        # page, and keeping the counts avoids parsing the body twice.
        self._last_page: tuple[int, int | None] = (0, None)
        super().__init__(authenticator=authenticator)

    @property
    def url_base(self) -> str:
        return self._base_url

    def get_json_schema(self) -> Mapping[str, Any]:
        # A constant: the CDK asks for it once per record, so it must cost nothing.
        return self.json_schema

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
        return params

    def parse_response(self, response: requests.Response, **_: Any) -> Iterable[Mapping[str, Any]]:
        items, body = parse_page(response, self.envelope_key, "MailChimp")
        total = body.get("total_items")
        self._last_page = (len(items), total if isinstance(total, int) else None)
        return items

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
    """Audiences: ``GET /lists``."""

    name = "lists"
    primary_key = "id"
    envelope_key = "lists"
    json_schema = schemas.LISTS
    incremental_cursor = "date_created"

    def path(self, **_: Any) -> str:
        return "lists"


class Campaigns(MailchimpStream):
    """Campaigns: ``GET /campaigns``, optionally of one ``status`` only (a server-side filter)."""

    name = "campaigns"
    primary_key = "id"
    envelope_key = "campaigns"
    json_schema = schemas.CAMPAIGNS
    incremental_cursor = "create_time"

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


class ListMembers(MailchimpStream):
    """Members of every audience: ``GET /lists/{list_id}/members``, one slice per list."""

    name = "list_members"
    primary_key = ["id", "list_id"]
    envelope_key = "members"
    json_schema = schemas.LIST_MEMBERS
    incremental_cursor = "last_changed"
    has_multiple_slices = True

    def __init__(self, parent: Lists, **kwargs: Any) -> None:
        self.parent = parent
        super().__init__(**kwargs)

    def stream_slices(self, **_: Any) -> Iterable[Mapping[str, Any] | None]:
        # Only the id: a whole parent record in the slice would be copied into every slice log.
        for audience in self.parent.records():
            yield {"list_id": audience["id"]}

    def path(self, *, stream_slice: Mapping[str, Any] | None = None, **_: Any) -> str:
        return f"lists/{stream_slice['list_id']}/members"


class EmailActivity(MailchimpStream):
    """Opens, clicks and bounces of every sent campaign, one record per event.

    ``GET /reports/{campaign_id}/email-activity`` answers one item per recipient with a nested
    ``activity`` list; flattening it here gives the lake a row per event, keyed by
    (campaign_id, email_id, action, timestamp). A recipient with no activity yields nothing.
    """

    name = "email_activity"
    primary_key = ["campaign_id", "email_id", "action", "timestamp"]
    envelope_key = "emails"
    json_schema = schemas.EMAIL_ACTIVITY
    incremental_cursor = "timestamp"
    has_multiple_slices = True

    def __init__(self, parent: Campaigns, **kwargs: Any) -> None:
        """``parent`` should read only sent campaigns: others have no report."""
        self.parent = parent
        super().__init__(**kwargs)

    def stream_slices(self, **_: Any) -> Iterable[Mapping[str, Any] | None]:
        for campaign in self.parent.records():
            yield {"campaign_id": campaign["id"]}

    def path(self, *, stream_slice: Mapping[str, Any] | None = None, **_: Any) -> str:
        return f"reports/{stream_slice['campaign_id']}/email-activity"

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
