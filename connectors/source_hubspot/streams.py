"""The HubSpot CRM streams: contacts, companies and deals, read with limit/after paging.

Python ``HttpStream``s rather than a declarative manifest, for throughput: see README.md.
"""

from collections.abc import Iterable, Mapping, MutableMapping
from functools import cached_property
from typing import Any

import requests
from connector_kit.http import REQUEST_TIMEOUT, ApiStream, parse_page
from requests.auth import AuthBase

NULLABLE_STRING = {"type": ["null", "string"]}
DATE_TIME = {
    "type": ["null", "string"],
    "format": "date-time",
    "airbyte_type": "timestamp_with_timezone",
}
ID_LIST = {"type": ["null", "array"], "items": {"type": "string"}}


class CrmObjects(ApiStream):
    """One CRM object type: ``GET /crm/v3/objects/{name}`` asking for every property it has.

    Records are flattened as the official connector does: ``id``, ``createdAt``, ``updatedAt``,
    ``archived``, then each property as a top-level ``properties_<name>``. HubSpot sends every
    property value as a string (numbers and dates included), so they stay strings here and are
    typed downstream in dbt.
    """

    primary_key = "id"
    # Associated object types read with each object, as arrays of ids (deals only).
    associations: tuple[str, ...] = ()
    # The field a later incremental version will use (through the search endpoint). Not the
    # CDK's ``cursor_field`` yet: that would advertise an incremental sync this slice doesn't do.
    incremental_cursor = "updatedAt"

    def __init__(self, base_url: str, authenticator: AuthBase, page_size: int) -> None:
        self._base_url = base_url.rstrip("/") + "/"
        self.page_size = page_size
        super().__init__(authenticator=authenticator)

    @property
    def url_base(self) -> str:
        return self._base_url

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
    def _json_schema(self) -> Mapping[str, Any]:
        properties: dict[str, Any] = {
            "id": NULLABLE_STRING,
            "createdAt": DATE_TIME,
            "updatedAt": DATE_TIME,
            "archived": {"type": ["null", "boolean"]},
        }
        properties.update({f"properties_{name}": NULLABLE_STRING for name in self.property_names})
        properties.update({kind: ID_LIST for kind in self.associations})
        return {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": True,
            "properties": properties,
        }

    def get_json_schema(self) -> Mapping[str, Any]:
        # Built from the API, so cached: the CDK asks for it once per record.
        return self._json_schema

    def request_params(
        self,
        stream_state: Mapping[str, Any] | None,
        stream_slice: Mapping[str, Any] | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> MutableMapping[str, Any]:
        # Without ``properties`` HubSpot returns only a handful of default ones. Every name goes
        # in the query string: fine for the dozens of properties here; portals with hundreds of
        # custom properties would need the list split over several requests (URL length).
        params: MutableMapping[str, Any] = {
            "limit": self.page_size,
            "properties": ",".join(self.property_names),
        }
        if self.associations:
            params["associations"] = ",".join(self.associations)
        if next_page_token:
            params.update(next_page_token)
        return params

    def parse_response(self, response: requests.Response, **_: Any) -> Iterable[Mapping[str, Any]]:
        objects, body = parse_page(response, "results", "HubSpot")
        self._next_after = ((body.get("paging") or {}).get("next") or {}).get("after")
        return [self._flatten(obj) for obj in objects]

    def next_page_token(self, response: requests.Response) -> Mapping[str, Any] | None:
        """``paging.next.after`` of the page just parsed; HubSpot omits ``paging`` on the last."""
        return {"after": self._next_after} if self._next_after else None

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


class Companies(CrmObjects):
    name = "companies"


class Deals(CrmObjects):
    name = "deals"
    associations = ("contacts", "companies")
