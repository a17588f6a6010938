"""HubSpot CRM search (``POST /crm/v3/objects/{type}/search``): filters, sorts and the paging cap.

The mock evaluates a search by rendering every object of the type with all its properties and
testing each: a scan, fine at the scales searches are used at here. Values compare as HubSpot
compares them: datetime properties as epoch milliseconds, numbers as numbers, the rest as
case-insensitive strings.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from testbench.mock_apis import hubspot
from testbench.mock_apis.responses import BadRequest
from testbench.mock_apis.timeline import parse_time
from testbench.mock_apis.world import World

MAX_LIMIT = 200
MAX_RESULTS = 10_000  # HubSpot answers paging past this with a 400
OPERATORS = (
    "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN",
    "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
)  # fmt: skip

Value = str | float | None
Record = dict[str, Any]


@dataclass(frozen=True)
class Filter:
    property_name: str
    operator: str
    value: Any = None
    high_value: Any = None
    values: tuple[Any, ...] = ()


def _comparable(definition_type: str, raw: Any) -> Value:
    """A property value (or a filter's) in the form HubSpot compares it in."""
    if raw is None or raw == "":
        return None
    if definition_type == "datetime":
        text = str(raw)
        if text.lstrip("-").isdigit():
            return float(text)  # filters send epoch milliseconds
        try:
            return float(parse_time(text) * 1000 + _millis(text))
        except ValueError:
            raise BadRequest(f"{raw!r} is not a valid datetime") from None
    if definition_type == "number":
        try:
            return float(raw)
        except (TypeError, ValueError):
            return None  # no value (or not a number) matches no comparison
    return str(raw).strip().lower()


def _millis(text: str) -> int:
    """The milliseconds of an ISO timestamp like ``...T08:12:59.123Z`` (0 when absent)."""
    _, dot, rest = text.partition(".")
    digits = "".join(c for c in rest if c.isdigit())[:3] if dot else ""
    return int(digits.ljust(3, "0")) if digits else 0


def _types(object_type: str) -> dict[str, str]:
    return {d.name: d.type for d in hubspot.PROPERTY_CATALOG[object_type]}


def parse_filters(body: Record, object_type: str) -> list[list[Filter]]:
    """The OR-of-ANDs of a search body: ``filterGroups``, and a top-level ``filters`` some clients
    send (treated as one more group)."""
    groups = [group.get("filters", []) for group in body.get("filterGroups") or []]
    if body.get("filters"):
        groups.append(body["filters"])
    known = _types(object_type)
    parsed = []
    for group in groups:
        filters = []
        for item in group:
            operator = str(item.get("operator", "EQ")).upper()
            name = item.get("propertyName")
            if operator not in OPERATORS:
                raise BadRequest(f"Unknown operator {operator!r}")
            if name not in known:
                raise BadRequest(f"Unknown property {name!r} for {object_type}")
            filters.append(
                Filter(
                    name,
                    operator,
                    item.get("value"),
                    item.get("highValue"),
                    tuple(item.get("values") or ()),
                )
            )
        parsed.append(filters)
    return parsed


def _matches(flt: Filter, properties: Record, kind: str) -> bool:
    actual = _comparable(kind, properties.get(flt.property_name))
    operator = flt.operator
    if operator == "HAS_PROPERTY":
        return actual is not None
    if operator == "NOT_HAS_PROPERTY":
        return actual is None
    if operator in ("IN", "NOT_IN"):
        found = actual in {_comparable(kind, value) for value in flt.values}
        return found if operator == "IN" else not found
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(flt.value or "").lower().strip("*")
        found = actual is not None and token in str(actual)
        return found if operator == "CONTAINS_TOKEN" else not found
    wanted = _comparable(kind, flt.value)
    if operator == "NEQ":
        return actual != wanted
    if actual is None or wanted is None:
        return False
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "EQ": lambda a, b: a == b,
        "LT": lambda a, b: a < b,
        "LTE": lambda a, b: a <= b,
        "GT": lambda a, b: a > b,
        "GTE": lambda a, b: a >= b,
        "BETWEEN": lambda a, b: b <= a <= _comparable(kind, flt.high_value),
    }
    return comparisons[operator](actual, wanted)


def every_object(world: World, object_type: str, names: tuple[str, ...]) -> Iterator[Record]:
    """Every object of a type, rendered with ``names``, in id order."""
    if object_type == hubspot.CONTACTS:
        for index in range(world.contact_records):
            yield hubspot.contact(world, index, names, ())
    elif object_type == hubspot.COMPANIES:
        for index in range(world.company_count):
            yield hubspot.company(world, index, names, ())
    else:
        for deal in world.all_deals():
            yield hubspot.deal(world, deal, names, ())


def search(world: World, object_type: str, body: Record) -> Record:
    """Run one search request body and return HubSpot's response envelope."""
    limit = body.get("limit", 10)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}")
    try:
        after = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid 'after': {body.get('after')!r}") from None
    if after + limit > MAX_RESULTS:
        raise BadRequest(
            f"Paging past {MAX_RESULTS} results is not supported: narrow the filters"
            " (for example hs_object_id GT the last id seen) and search again."
        )
    groups = parse_filters(body, object_type)
    kinds = _types(object_type)
    wanted = hubspot.select_properties(object_type, body.get("properties") or None)
    everything = tuple(kinds)
    matched = [
        record
        for record in every_object(world, object_type, everything)
        if not groups
        or any(
            all(_matches(f, record["properties"], kinds[f.property_name]) for f in g)
            for g in groups
        )
    ]
    for sort in reversed(_sorts(body, kinds)):
        name, descending = sort
        matched.sort(
            key=lambda record, name=name: _sort_key(kinds[name], record["properties"].get(name)),
            reverse=descending,
        )
    page = matched[after : after + limit]
    results = [
        {**record, "properties": {name: record["properties"][name] for name in wanted}}
        for record in page
    ]
    payload: Record = {"total": len(matched), "results": results}
    if after + limit < len(matched):
        payload["paging"] = {"next": {"after": str(after + limit)}}
    return payload


def _sorts(body: Record, kinds: dict[str, str]) -> list[tuple[str, bool]]:
    """``sorts`` as ``[{"propertyName", "direction"}]`` or ``["-name"]``; by id when absent."""
    parsed = []
    for sort in body.get("sorts") or []:
        if isinstance(sort, str):
            name, descending = sort.lstrip("-"), sort.startswith("-")
        else:
            name = sort.get("propertyName")
            descending = str(sort.get("direction", "ASCENDING")).upper().startswith("DESC")
        if name not in kinds:
            raise BadRequest(f"Unknown sort property {name!r}")
        parsed.append((name, descending))
    return parsed or [("hs_object_id", False)]


def _sort_key(kind: str, raw: Any) -> tuple[bool, Any]:
    value = _comparable(kind, raw)
    return (value is None, value if value is not None else 0)
