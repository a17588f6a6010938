"""HubSpot's legacy marketing email events (``GET /email/public/v1/events``).

HubSpot's MailChimp integration logs the campaigns' opens, clicks and bounces on the contacts it
knows, so these are the email-activity events of people in both systems, with HubSpot's names
(``OPEN``, ``CLICK``, ``BOUNCE``) and epoch-millisecond times. A page is found by scanning the
recipients of the campaigns whose activity can fall in the asked time window: clients should page
through bounded windows (``startTimestamp``/``endTimestamp``), as they do against the real API.
"""

from typing import Any

from testbench.mock_apis import mailchimp
from testbench.mock_apis.model import Event, Person
from testbench.mock_apis.rng import hex_id
from testbench.mock_apis.world import ACTIVITY_SPAN, Kind, World

Record = dict[str, Any]

ACTIVITY_SPAN_MS = ACTIVITY_SPAN * 1000
PORTAL_ID = 62_515
APP_ID = 1_053_000  # the MailChimp integration's app
CAMPAIGN_ID_BASE = 40_000_000
EVENT_TYPES = {"open": "OPEN", "click": "CLICK", "bounce": "BOUNCE"}


def events_between(world: World, start_ms: int, end_ms: int) -> list[Record]:
    """Every event with ``start_ms <= created < end_ms``, oldest first (ties by id)."""
    found = []
    for campaign in world.campaigns:
        send_ms = campaign.send_ts * 1000
        if not campaign.is_sent or send_ms >= end_ms or send_ms + ACTIVITY_SPAN_MS < start_ms:
            continue
        for person_index in world.recipients(campaign):
            person = world.person(person_index)
            if not person.in_hubspot:
                continue
            for number, event in enumerate(world.activity(campaign, person_index)):
                created_ms = event.ts * 1000
                if start_ms <= created_ms < end_ms:
                    found.append(_event(world, campaign.index, person, event, number, created_ms))
    found.sort(key=lambda record: (record["created"], record["id"]))
    return found


def _event(
    world: World, campaign: int, person: Person, event: Event, number: int, created_ms: int
) -> Record:
    record: Record = {
        "id": hex_id(16, world.seed, Kind.ACTIVITY, campaign, person.index, number),
        "type": EVENT_TYPES[event.action],
        "created": created_ms,
        "recipient": person.email,
        "portalId": PORTAL_ID,
        "appId": APP_ID,
        "appName": "MailChimp",
        "emailCampaignId": CAMPAIGN_ID_BASE + campaign,
        "sentBy": {"id": mailchimp.subscriber_hash(person.email), "created": created_ms},
    }
    if event.action == "click":
        record["url"] = event.url
    if event.action == "bounce":
        record["category"] = "HARD_BOUNCE" if event.bounce_type == "hard" else "SOFT_BOUNCE"
    return record
