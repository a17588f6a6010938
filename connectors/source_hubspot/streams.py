"""The HubSpot streams: CRM objects (contacts, companies, deals), owners, the deal pipelines and
the marketing email events.

A first sync reads each object type with the list endpoint (limit/after paging); later syncs ask
the search endpoint for the objects modified since the state's cursor. Python ``HttpStream``s
rather than a declarative manifest, for throughput: see README.md.
"""

from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime
from functools import cached_property
from typing import Any

import requests
from airbyte_cdk.sources.streams.core import StreamData
from connector_kit.http import REQUEST_TIMEOUT, ApiStream, parse_page
from connector_kit.incremental import IncrementalApiStream
from connector_kit.schemas import BOOLEAN, DATE_TIME, ID_LIST, STRING, object_schema
from requests.auth import AuthBase

from source_hubspot import schemas


class HubspotStream(ApiStream):
    """``GET <path>?limit=&after=`` -> ``{results: [...], paging: {next: {after}}}``."""

    primary_key = "id"
    json_schema: Mapping[str, Any]

    def __init__(self, base_url: str, authenticator: AuthBase, page_size: int) -> None:
        self._next_token: str | None = None
        super().__init__(base_url, authenticator, page_size)

    def request_params(
        self,
        stream_state: Mapping[str, Any] | None,
        stream_slice: Mapping[str, Any] | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> MutableMapping[str, Any]:
        return {"limit": self.page_size, **(next_page_token or {})}

    def parse_response(self, response: requests.Response, **_: Any) -> Iterable[Mapping[str, Any]]:
        results, body = parse_page(response, "results", "HubSpot")
        self._next_token = ((body.get("paging") or {}).get("next") or {}).get("after")
        return results

    def next_page_token(self, response: requests.Response) -> Mapping[str, Any] | None:
        """``paging.next.after`` of the page just parsed; HubSpot omits ``paging`` on the last."""
        return {"after": self._next_token} if self._next_token else None


class Owners(HubspotStream):
    """The account's users that own records (``hubspot_owner_id``). Full refresh: a few rows."""

    name = "owners"
    json_schema = schemas.OWNERS

    def path(self, **_: Any) -> str:
        return "crm/v3/owners"


class DealPipelines(HubspotStream):
    """The deal pipelines with their stages (``pipeline``, ``dealstage``). Full refresh."""

    name = "deal_pipelines"
    json_schema = schemas.DEAL_PIPELINES

    def path(self, **_: Any) -> str:
        return "crm/v3/pipelines/deals"


class EmailEvents(HubspotStream, IncrementalApiStream):
    """Marketing email events (legacy ``GET /email/public/v1/events``), incremental on
    ``created`` (epoch ms) through the ``startTimestamp`` filter; ``offset``/``hasMore`` paging."""

    name = "email_events"
    json_schema = schemas.EMAIL_EVENTS
    cursor_field = "created"
    page_limit = 1000  # the endpoint's maximum, independent of the CRM's 100

    def path(self, **_: Any) -> str:
        return "email/public/v1/events"

    def request_params(
        self,
        stream_state: Mapping[str, Any] | None,
        stream_slice: Mapping[str, Any] | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> MutableMapping[str, Any]:
        params: MutableMapping[str, Any] = {"limit": self.page_limit, **(next_page_token or {})}
        if stream_slice and stream_slice.get("since"):
            params["startTimestamp"] = stream_slice["since"]
        return params

    def parse_response(self, response: requests.Response, **_: Any) -> Iterable[Mapping[str, Any]]:
        events, body = parse_page(response, "events", "HubSpot")
        self._next_token = str(body["offset"]) if body.get("hasMore") and events else None
        return events

    def next_page_token(self, response: requests.Response) -> Mapping[str, Any] | None:
        return {"offset": self._next_token} if self._next_token else None


class CrmObjects(HubspotStream, IncrementalApiStream):
    """One CRM object type, with every property it has, incremental on ``updatedAt``.

    Records are flattened as the official connector does: ``id``, ``createdAt``, ``updatedAt``,
    ``archived``, then each property as a top-level ``properties_<name>``. HubSpot sends every
    property value as a string (numbers and dates included), so they stay strings here and are
    typed downstream in dbt.

    Without state: ``GET /crm/v3/objects/{name}``, the cheapest way to read everything. With a
    cursor: ``POST /crm/v3/objects/{name}/search`` for ``<modified property> >= cursor``, sorted
    by ``hs_object_id``. A search query pages over at most 10,000 results; at that cap the query
    restarts with ``hs_object_id > <last id read>``, which the sort makes exact.
    """

    cursor_field = "updatedAt"
    # The property that ``updatedAt`` mirrors, which the search endpoint filters on.
    modified_property = "hs_lastmodifieddate"
    # Associated object types read with each object, as arrays of ids (deals only).
    associations: tuple[str, ...] = ()
    search_page_size = 200  # the search endpoint's maximum
    search_result_cap = 10_000  # results one search query can page through

    def path(self, **_: Any) -> str:
        return f"crm/v3/objects/{self.name}"

    @cached_property
    def property_names(self) -> list[str]:
        """Every property of the object type, from ``GET /crm/v3/properties/{name}`` (once)."""
        _, response = self._http_client.send_request(
            "GET",
            f"{self.url_base}crm/v3/properties/{self.name}",
            request_kwargs={"timeout": REQUEST_TIMEOUT},
        )
        properties, _ = parse_page(response, "results", "HubSpot")
        return [prop["name"] for prop in properties]

    @cached_property
    def json_schema(self) -> Mapping[str, Any]:
        """Built from the property catalog, once."""
        properties: dict[str, Any] = {
            "id": STRING,
            "createdAt": DATE_TIME,
            "updatedAt": DATE_TIME,
            "archived": BOOLEAN,
        }
        properties.update({f"properties_{name}": STRING for name in self.property_names})
        properties.update({kind: ID_LIST for kind in self.associations})
        return object_schema(properties)

    def request_params(
        self,
        stream_state: Mapping[str, Any] | None,
        stream_slice: Mapping[str, Any] | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> MutableMapping[str, Any]:
        # Without ``properties`` HubSpot returns only a handful of default ones. Every name goes
        # in the query string: fine for the dozens of properties here; portals with hundreds of
        # custom properties would need the list split over several requests (URL length).
        params = super().request_params(stream_state, stream_slice, next_page_token)
        params["properties"] = ",".join(self.property_names)
        if self.associations:
            params["associations"] = ",".join(self.associations)
        return params

    def parse_response(self, response: requests.Response, **_: Any) -> Iterable[Mapping[str, Any]]:
        return [self._flatten(obj) for obj in super().parse_response(response)]

    def read_pages(
        self, stream_slice: Mapping[str, Any] | None, stream_state: Mapping[str, Any] | None
    ) -> Iterable[StreamData]:
        since = (stream_slice or {}).get("since")
        if not since:
            yield from super().read_pages(stream_slice, stream_state)
            return
        last_id, after = 0, None
        while True:
            objects, after = self._search_page(_epoch_millis(since), last_id, after)
            yield from self._with_associations([self._flatten(obj) for obj in objects])
            if after is None:
                return
            if int(after) >= self.search_result_cap:
                last_id, after = int(objects[-1]["id"]), None

    def _search_page(
        self, since_millis: int, last_id: int, after: str | None
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        """One page of ``modified >= since and hs_object_id > last_id``, by ascending id."""
        filters = [
            {"propertyName": self.modified_property, "operator": "GTE", "value": since_millis},
            {"propertyName": "hs_object_id", "operator": "GT", "value": last_id},
        ]
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": self.property_names,
            "limit": self.search_page_size,
        }
        if after is not None:
            body["after"] = after
        _, response = self._http_client.send_request(
            "POST",
            f"{self.url_base}{self.path()}/search",
            request_kwargs={"timeout": REQUEST_TIMEOUT},
            json=body,
        )
        objects, page = parse_page(response, "results", "HubSpot")
        return objects, ((page.get("paging") or {}).get("next") or {}).get("after")

    def _with_associations(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add the associations the search endpoint cannot return (v4 batch read, one per type)."""
        if not self.associations or not records:
            return records
        inputs = [{"id": record["id"]} for record in records]
        for kind in self.associations:
            _, response = self._http_client.send_request(
                "POST",
                f"{self.url_base}crm/v4/associations/{self.name}/{kind}/batch/read",
                request_kwargs={"timeout": REQUEST_TIMEOUT},
                json={"inputs": inputs},
            )
            results, _ = parse_page(response, "results", "HubSpot")
            linked = {
                str(result["from"]["id"]): [str(link["toObjectId"]) for link in result["to"]]
                for result in results
            }
            for record in records:
                record[kind] = list(dict.fromkeys(linked.get(record["id"], ())))
        return records

    def _flatten(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        record = {
            "id": obj.get("id"),
            "createdAt": obj.get("createdAt"),
            "updatedAt": obj.get("updatedAt"),
            "archived": obj.get("archived"),
        }
        for name, value in (obj.get("properties") or {}).items():
            record[f"properties_{name}"] = value
        linked = obj.get("associations") or {}
        for kind in self.associations:
            links = (linked.get(kind) or {}).get("results") or ()
            # One entry per association type (e.g. labelled and unlabelled): keep each id once.
            record[kind] = list(dict.fromkeys(str(link["id"]) for link in links))
        return record


class Contacts(CrmObjects):
    name = "contacts"
    modified_property = "lastmodifieddate"


class Companies(CrmObjects):
    name = "companies"


class Deals(CrmObjects):
    name = "deals"
    associations = ("contacts", "companies")


def _epoch_millis(timestamp: str) -> int:
    """An ISO timestamp (``2019-12-07T16:50:06.678Z``) as the epoch ms that search filters take."""
    return round(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)
