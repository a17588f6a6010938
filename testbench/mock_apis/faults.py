"""The mock's fault injection: faults in the API answers, deterministic from a seed; off by default.

(Not the reliability suite, ``testbench/chaos/``, which turns these faults on during real syncs.)
Faults change how the world is *delivered*, never the world itself: ``/_mock/truth`` stays what a
correct pipeline must end with. A scenario either makes the client retry (429, 5xx, a hang, a
reset connection), or makes a correct client fail loudly (a broken 200, 401, a repeated page), or
changes records on the way (schema drift, bad records). The bad records a scenario produced are
listed by ``GET /_mock/faults`` (``bad_records``), so a test can account for each one explicitly.

Only API requests count (``/3.0/``, ``/crm/``, ``/email/``, ``/properties/``; never ``/_mock/``).
They are numbered from 1 in the order they arrive; scenario ``s`` hits request ``n`` when ``n`` is
in its scripted stretch (``start``, ``count``) or, for a rate, when a BLAKE2b draw of
``(seed, s, n)`` is below ``rate``. The same seed and the same sequence of requests give the same
faults.

A scenario is written ``name`` or ``name:key=value:key=value`` (``outage:start=5:count=3``,
``server_error:rate=0.3``, ``hang:seconds=6``). See ``SCENARIOS`` and mock_apis/README.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

log = logging.getLogger(__name__)

API_PREFIXES = ("/3.0/", "/crm/", "/email/", "/properties/")


@dataclass(frozen=True)
class Scenario:
    """One fault and when it strikes: a ``rate`` per request, or ``count`` requests from
    ``start``."""

    name: str
    kind: str  # status | hang | reset | body | repeat | drift | bad_record
    what: str  # one line for people (the README table and `mock-apis faults --help`)
    rate: float = 0.0
    start: int = 0
    count: int = 0
    status: int = 0
    retry_after: int | None = None
    seconds: float = 0.0

    def strikes(self, seed: int, n: int) -> bool:
        if self.count and self.start <= n < self.start + self.count:
            return True
        return self.rate > 0 and _draw(seed, self.name, n) < self.rate


def _draw(seed: int, name: str, n: int) -> float:
    digest = hashlib.blake2b(f"{seed}:{name}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# The catalogue. Defaults are chosen so that a correct client survives the transient faults
# (every retried request gets through within its retries) and fails loudly on the others.
SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "rate_limit", "status", "429 with Retry-After: 1", rate=0.1, status=429, retry_after=1
        ),
        Scenario(
            "rate_limit_no_retry_after", "status", "429 without Retry-After", rate=0.1, status=429
        ),
        Scenario("server_error", "status", "500 Internal Server Error", rate=0.1, status=500),
        Scenario("bad_gateway", "status", "502 Bad Gateway", rate=0.1, status=502),
        Scenario(
            "unavailable", "status", "503 Service Unavailable, scattered", rate=0.1, status=503
        ),
        Scenario(
            "outage",
            "status",
            "503 for a stretch of requests (start, count), then recovery",
            start=4,
            count=4,
            status=503,
        ),
        Scenario(
            "hang",
            "hang",
            "no answer for `seconds` (longer than the client's timeout)",
            start=3,
            count=1,
            seconds=150.0,
        ),
        Scenario("reset", "reset", "the connection closes mid-body", rate=0.1),
        Scenario("truncated_json", "body", "200 with the JSON cut in half", start=4, count=1),
        Scenario(
            "html_page", "body", "200 with an HTML page (a proxy's error page)", start=4, count=1
        ),
        Scenario("empty_body", "body", "200 with an empty body", start=4, count=1),
        Scenario(
            "unauthorized",
            "status",
            "401: the credential was revoked",
            start=4,
            count=1,
            status=401,
        ),
        Scenario(
            "repeat_page",
            "repeat",
            "a next page repeats the records of the previous page",
            rate=0.5,
        ),
        Scenario("drift_add", "drift", "every record gains a field", rate=1.0),
        Scenario("drift_remove", "drift", "every record loses a (non-key) field", rate=1.0),
        Scenario("drift_rename", "drift", "a (non-key) field is renamed", rate=1.0),
        Scenario("drift_retype", "drift", "a field changes type (number <-> text)", rate=1.0),
        Scenario("null_key", "bad_record", "a record's primary key is null", rate=0.2),
        Scenario("missing_key", "bad_record", "a record has no primary key field", rate=0.2),
        Scenario("bad_date", "bad_record", "a record's date is malformed", rate=0.2),
        Scenario("wrong_type", "bad_record", "a record's field has the wrong type", rate=0.2),
        Scenario(
            "hostile_names",
            "bad_record",
            "records carry fields with hostile names (SQL, quotes, dots, very long)",
            rate=0.2,
        ),
    )
}

# Fields a drift or a bad date leaves alone: keys and cursors (a drifted key is a bad record).
PROTECTED = frozenset(
    (
        *("id", "list_id", "campaign_id", "email_id", "action", "timestamp", "last_changed"),
        *("updated_at", "updatedAt", "createdAt", "created", "create_time", "send_time"),
        *("status", "activity", "properties", "associations", "paging"),
        *("hs_object_id", "hs_lastmodifieddate", "lastmodifieddate"),
    )
)
HOSTILE_NAMES = (
    "Robert'); DROP TABLE students;--",
    'quote"inside',
    "dotted.name",
    "select",
    "_airbyte_raw_id",
    "Ünïcødé 名前",
    "x" * 300,
)
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The upstream server is being updated.</p></body></html>"
)


def parse(specs: list[str] | str | None) -> list[Scenario]:
    """``["outage:count=3", "server_error"]`` or ``"outage,server_error"`` -> scenarios."""
    if specs is None:
        return []
    if isinstance(specs, str):
        specs = [specs]
    scenarios = []
    for spec in (part.strip() for item in specs for part in item.split(",")):
        if not spec:
            continue
        name, *options = spec.split(":")
        if name not in SCENARIOS:
            raise ValueError(f"unknown fault scenario {name!r}; known: {', '.join(SCENARIOS)}")
        scenario = SCENARIOS[name]
        for option in options:
            key, _, value = option.partition("=")
            if key not in ("rate", "start", "count", "seconds", "retry_after"):
                raise ValueError(f"fault scenario {spec!r}: unknown option {key!r}")
            try:
                number = float(value) if key in ("rate", "seconds") else int(value)
            except ValueError:
                raise ValueError(f"fault scenario {spec!r}: {key} must be a number") from None
            if key == "rate":  # a rate replaces the scripted stretch, and the other way round
                scenario = replace(scenario, rate=number, count=0)
            elif key in ("start", "count"):
                scenario = replace(scenario, rate=0.0, **{key: number})
            else:
                scenario = replace(scenario, **{key: number})
        scenarios.append(scenario)
    return scenarios


@dataclass
class Faults:
    """The faults of a running server: its scenarios, seed, and what it did so far."""

    scenarios: list[Scenario] = field(default_factory=list)
    seed: int = 0
    requests: int = 0
    injected: Counter = field(default_factory=Counter)
    bad_records: list[dict[str, Any]] = field(default_factory=list)
    # repeat_page: the last page served per path, to serve again in place of the next one.
    last_page: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def from_specs(cls, specs: list[str] | str | None, seed: int = 0) -> Faults:
        return cls(parse(specs), seed)

    def describe(self) -> dict[str, Any]:
        return {
            "scenarios": [_spec(s) for s in self.scenarios],
            "seed": self.seed,
            "requests": self.requests,
            "injected": dict(self.injected),
            "bad_records": self.bad_records,
        }


def _spec(scenario: Scenario) -> str:
    default = SCENARIOS[scenario.name]
    options = [
        f"{name}={getattr(scenario, name):g}"
        for name in ("rate", "start", "count", "seconds", "retry_after")
        if getattr(scenario, name) != getattr(default, name) and getattr(scenario, name) is not None
    ]
    return ":".join([scenario.name, *options])


class FaultsMiddleware:
    """Pure ASGI middleware: reads ``app.state.faults`` (None: off) on every API request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        faults: Faults | None = (
            getattr(scope["app"].state, "faults", None) if "app" in scope else None
        )
        if (
            scope["type"] != "http"
            or faults is None
            or not faults.scenarios
            or not scope["path"].startswith(API_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        faults.requests += 1
        n = faults.requests
        striking = [s for s in faults.scenarios if s.strikes(faults.seed, n)]
        # At most one fault of the answer itself (the first listed); record changes combine.
        answer_fault = next(
            (s for s in striking if s.kind in ("status", "hang", "reset", "body", "repeat")), None
        )
        if answer_fault and answer_fault.kind == "status":
            faults.injected[answer_fault.name] += 1
            await _send_status(send, answer_fault, scope["path"])
            return
        if answer_fault and answer_fault.kind == "hang":
            faults.injected[answer_fault.name] += 1
            await asyncio.sleep(answer_fault.seconds)
        keeps_pages = any(s.kind == "repeat" for s in faults.scenarios)
        record_faults = [s for s in striking if s.kind in ("drift", "bad_record")]
        plain = answer_fault is None or answer_fault.kind == "hang"
        if plain and not record_faults and not keeps_pages:
            await self.app(scope, receive, send)
            return

        start, body = await _answer_of(self.app, scope, receive)
        status = start["status"]
        page_key = f"{scope['method']} {scope['path']}"
        if answer_fault and answer_fault.kind == "repeat" and _is_next_page(scope):
            previous = faults.last_page.get(page_key)
            if status == 200 and previous is not None:
                faults.injected[answer_fault.name] += 1
                body = previous
        elif status == 200 and keeps_pages:
            faults.last_page[page_key] = body
        if status == 200 and record_faults:
            body = _change_records(body, record_faults, faults, n, scope["path"])
        if answer_fault and answer_fault.kind == "body":
            faults.injected[answer_fault.name] += 1
            body = {
                "truncated_json": body[: len(body) // 2],
                "html_page": HTML_PAGE,
                "empty_body": b"",
            }[answer_fault.name]
            content_type = b"text/html" if answer_fault.name == "html_page" else None
            start = _with_body_headers(start, len(body), content_type)
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        start = _with_body_headers(start, len(body))
        if answer_fault and answer_fault.kind == "reset":
            faults.injected[answer_fault.name] += 1
            await send(start)
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            # Raising after part of the body makes the server drop the connection.
            raise ConnectionResetByFault(scope["path"])
        await send(start)
        await send({"type": "http.response.body", "body": body})


class ConnectionResetByFault(Exception):
    """Raised by the ``reset`` scenario to make the server close the connection mid-body."""


class _QuietReset(logging.Filter):
    """The server logs an exception raised by the app; a reset on purpose is not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionResetByFault)


logging.getLogger("uvicorn.error").addFilter(_QuietReset())


async def _answer_of(app: Any, scope: dict[str, Any], receive: Any) -> tuple[dict, bytes]:
    """Run the app and collect its answer: (the response start message, the whole body)."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def collect(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, collect)
    return start, b"".join(chunks)


def _with_body_headers(
    start: dict[str, Any], length: int, content_type: bytes | None = None
) -> dict[str, Any]:
    headers = [
        (name, value)
        for name, value in start.get("headers", [])
        if name.lower() != b"content-length"
        and not (content_type and name.lower() == b"content-type")
    ]
    headers.append((b"content-length", str(length).encode()))
    if content_type:
        headers.append((b"content-type", content_type))
    return {**start, "headers": headers}


async def _send_status(send: Any, scenario: Scenario, path: str) -> None:
    """An error in the shape of the API asked: MailChimp problem documents, HubSpot errors."""
    reasons = {
        401: "Unauthorized",
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
    }
    title = reasons.get(scenario.status, "Error")
    if path.startswith("/3.0/"):
        body = {
            "type": "https://mailchimp.com/developer/marketing/docs/errors/",
            "title": title,
            "status": scenario.status,
            "detail": f"injected fault: {scenario.name}",
            "instance": "injected-fault",
        }
        content_type = b"application/problem+json"
    else:
        body = {
            "status": "error",
            "message": f"injected fault: {scenario.name}",
            "correlationId": "injected-fault",
            "category": title.upper().replace(" ", "_"),
        }
        content_type = b"application/json"
    payload = orjson.dumps(body)
    headers = [(b"content-type", content_type), (b"content-length", str(len(payload)).encode())]
    if scenario.retry_after is not None:
        headers.append((b"retry-after", str(scenario.retry_after).encode()))
    await send({"type": "http.response.start", "status": scenario.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _is_next_page(scope: dict[str, Any]) -> bool:
    """A request for a page after the first (MailChimp ``offset``, HubSpot ``after``/``offset``)."""
    query = scope.get("query_string", b"").decode()
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == "after" and value:
            return True
        if name == "offset" and value not in ("", "0"):
            return True
    return False


def _records_of(document: Any) -> list[dict[str, Any]] | None:
    """The page's records: the first array of objects in the envelope (``members``, ``results``)."""
    if not isinstance(document, dict):
        return None
    for value in document.values():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return value
    return None


def _change_records(
    body: bytes, scenarios: list[Scenario], faults: Faults, n: int, path: str
) -> bytes:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    records = _records_of(document)
    if not records:
        return body
    for scenario in scenarios:
        faults.injected[scenario.name] += 1
        if scenario.kind == "drift":
            for record in records:
                _drift(scenario.name, _target(record))
        else:
            # One record of the page, chosen by the draw.
            index = int(_draw(faults.seed, scenario.name + ":record", n) * len(records))
            record = records[index]
            original_key = {k: record[k] for k in ("id", "list_id", "email_id") if k in record}
            _bad_record(scenario.name, record)
            faults.bad_records.append({"scenario": scenario.name, "path": path, **original_key})
    return orjson.dumps(document)


def _target(record: dict[str, Any]) -> dict[str, Any]:
    """Where a record's fields are: HubSpot objects keep them in ``properties``."""
    properties = record.get("properties")
    return properties if isinstance(properties, dict) and properties else record


def _changeable(fields: dict[str, Any]) -> list[str]:
    return [name for name in fields if name not in PROTECTED and not name.startswith("_")]


def _drift(name: str, fields: dict[str, Any]) -> None:
    changeable = _changeable(fields)
    if name == "drift_add":
        fields["drift_added_field"] = "a field the API started sending"
    elif name == "drift_remove" and changeable:
        del fields[changeable[-1]]
    elif name == "drift_rename" and changeable:
        fields[changeable[-1] + "_renamed"] = fields.pop(changeable[-1])
    elif name == "drift_retype" and changeable:
        field_name = changeable[-1]
        value = fields[field_name]
        if isinstance(value, bool) or value is None:
            fields[field_name] = "true" if value else "false"
        elif isinstance(value, int | float):
            fields[field_name] = f"{value} units"
        else:
            fields[field_name] = {"value": value}


def _bad_record(name: str, record: dict[str, Any]) -> None:
    key = "id" if "id" in record else "email_id"
    if name == "null_key":
        record[key] = None
    elif name == "missing_key":
        record.pop(key, None)
    elif name == "bad_date":
        fields = _target(record)
        dated = [k for k, v in fields.items() if isinstance(v, str) and _looks_like_date(v)]
        changeable = [k for k in dated if k not in PROTECTED] or dated
        if changeable:
            fields[changeable[0]] = "2026-02-31T25:61:00+00:00"
    elif name == "wrong_type":
        fields = _target(record)
        changeable = _changeable(fields)
        if changeable:
            fields[changeable[0]] = {"unexpected": ["object", "where", "a", "scalar", "was"]}
    elif name == "hostile_names":
        for hostile in HOSTILE_NAMES:
            record[hostile] = "hostile"


def _looks_like_date(value: str) -> bool:
    return len(value) >= 10 and value[4] == "-" and value[7] == "-" and value[:4].isdigit()
