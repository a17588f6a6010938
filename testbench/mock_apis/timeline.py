"""Simulated time: a fixed anchor, the history before it, and the two APIs' timestamp formats.

Timestamps inside the world are integer seconds since the Unix epoch (UTC); they are only formatted
when a record is rendered.
"""

import time
from datetime import UTC, datetime

DAY = 86_400
HOUR = 3_600

# The default simulated "now". A fixed anchor (not the wall clock) keeps the world reproducible.
ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
ANCHOR_TS = int(ANCHOR.timestamp())
HISTORY_DAYS = 180
HISTORY_SECONDS = HISTORY_DAYS * DAY
START_TS = ANCHOR_TS - HISTORY_SECONDS


def mailchimp_time(ts: int) -> str:
    """MailChimp's format: ISO 8601 with an offset and no fraction
    (``2026-03-01T08:12:59+00:00``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ts))


def hubspot_time(ts_ms: int) -> str:
    """HubSpot's format: ISO 8601 with milliseconds and ``Z`` (``2026-03-01T08:12:59.123Z``)."""
    seconds, millis = divmod(ts_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def parse_time(text: str) -> int:
    """Parse the timestamp forms API clients send (``...Z``, ``...+00:00``, with or without a
    fraction).

    Raises ``ValueError`` on anything else, which the server turns into a 400.
    """
    value = text.strip().replace("Z", "+00:00").replace(" ", "+")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())
