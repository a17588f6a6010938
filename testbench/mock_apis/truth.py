"""Ground truth: what a correct pipeline must find in the world at its simulated now.

Computed by scanning the world (fine at the small scales tests use). Campaign attribution, the
number the marts exist to produce, is defined here once:

    A deal is won for a campaign when the deal is closed won now, belongs to a person who clicked
    that campaign, and was created at or after that person's FIRST click on the campaign and no
    later than ``attribution_window_days`` after it. Multi-touch: one deal can count for several
    campaigns.
"""

from collections import Counter
from collections.abc import Iterable
from typing import Any

from testbench.mock_apis import (
    dirty,
    google_sheets,
    hubspot,
    hubspot_account,
    hubspot_email_events,
    layout,
    mailchimp,
    mailchimp_reports,
    mailchimp_segments,
)
from testbench.mock_apis.dirty import DUPLICATE_CONTACT_ID_BASE
from testbench.mock_apis.model import CLOSED_WON, Deal
from testbench.mock_apis.timeline import DAY, mailchimp_time
from testbench.mock_apis.world import COMPANY_ID_BASE, CONTACT_ID_BASE, World

DEFAULT_ATTRIBUTION_WINDOW_DAYS = 30


def truth(
    world: World, attribution_window_days: int = DEFAULT_ATTRIBUTION_WINDOW_DAYS, keys: bool = False
) -> dict[str, Any]:
    window_ms = attribution_window_days * DAY * 1000
    won_deals = {
        deal.person: deal for deal in world.all_deals() if deal.stage_at(world.now_ts) == CLOSED_WON
    }
    # Campaign rows count what a correct pipeline can attribute: not the deals it must quarantine.
    attributable = {
        person: deal for person, deal in won_deals.items() if not _quarantined(world, deal)
    }
    campaign_rows = []
    activity_keys: list[list[str]] = []
    event_count = 0
    for campaign in world.campaigns:
        if not campaign.is_sent:
            continue
        report = world.report(campaign)
        event_count += report.opens + report.clicks + report.bounces
        attributed: list[Deal] = []
        for person in world.recipients(campaign):
            events = world.activity(campaign, person)
            clicks = [event.ts for event in events if event.action == "click"]
            deal = attributable.get(person)
            if clicks and deal is not None:
                first_click_ms = min(clicks) * 1000
                if first_click_ms <= deal.created_ms <= first_click_ms + window_ms:
                    attributed.append(deal)
            if keys and events:
                email_id = mailchimp.subscriber_hash(world.person(person).email)
                activity_keys.extend(
                    [campaign.id, email_id, event.action, mailchimp_time(event.ts)]
                    for event in events
                )
        campaign_rows.append(
            {
                "campaign_id": campaign.id,
                "list_id": world.lists[campaign.list_index].id,
                "send_time": mailchimp_time(campaign.send_ts),
                "emails_sent": campaign.emails_sent,
                "opens": report.opens,
                "unique_opens": report.unique_opens,
                "clicks": report.clicks,
                "unique_clicks": report.unique_clicks,
                "bounces": report.bounces,
                "won_deals": len(attributed),
                "won_revenue": sum(deal.amount_cents for deal in attributed) / 100,
            }
        )
    deals = list(world.all_deals())
    both = layout.mailchimp_count(world.people_count) + world.contact_count - world.people_count
    result: dict[str, Any] = {
        "seed": world.seed,
        "scale": world.scale,
        "days_advanced": world.days_advanced,
        "now": mailchimp_time(world.now_ts),
        "attribution_window_days": attribution_window_days,
        "people": {
            "total": world.people_count,
            "mailchimp_only": world.people_count - world.contact_count,
            "both": both,
            "hubspot_only": world.people_count - world.member_count,
        },
        "counts": {
            "lists": len(world.lists),
            "list_members": world.member_count,
            "campaigns": len(world.campaigns),
            "sent_campaigns": len(campaign_rows),
            "email_activity": event_count,
            "email_activity_recipients": sum(row["emails_sent"] for row in campaign_rows),
            "contacts": world.contact_records,
            "companies": world.company_count,
            "deals": len(deals),
            "won_deals": len(won_deals),
        },
        "campaigns": campaign_rows,
        "dirty_rate": world.dirty_rate,
        "dirty": _defect_counts(world, deals),
    }
    # The marketing spreadsheet: spend per campaign, return on spend, the rows to quarantine.
    result["google_sheets"] = google_sheets.spend_truth(world, campaign_rows)
    other_keys = _other_stream_keys(world)
    result["counts"].update({stream: len(rows) for stream, rows in other_keys.items()})
    if keys:
        result["keys"] = {**_keys(world, deals, activity_keys), **other_keys}
        result["cursors"] = _cursors(world, deals)
    return result


def _other_stream_keys(world: World) -> dict[str, list[Any]]:
    """Keys of the streams beyond the core seven: reports, unsubscribes, segments, tags, owners,
    deal pipelines and HubSpot's email events."""
    sent = [campaign for campaign in world.campaigns if campaign.is_sent]
    unsubscribes = [
        [campaign.id, record["email_id"]]
        for campaign in sent
        for record in (
            mailchimp_reports.unsubscribe(world, campaign, offset)
            for offset in world.unsubscribes(campaign)
        )
    ]
    events = hubspot_email_events.events_between(world, 0, world.now_ts * 1000)
    return {
        "reports": sorted(campaign.id for campaign in sent),
        "unsubscribes": sorted(unsubscribes),
        "segments": sorted(
            [segment["id"], item.id]
            for item in world.lists
            for segment in mailchimp_segments.segments(world, item)
        ),
        "tags": sorted(
            [tag["id"], item.id] for item in world.lists for tag in mailchimp_segments.tags("")
        ),
        "owners": sorted(owner["id"] for owner in hubspot_account.owners(world)),
        "deal_pipelines": sorted(pipeline["id"] for pipeline in hubspot_account.deal_pipelines()),
        "email_events": sorted(event["id"] for event in events),
    }


def _keys(world: World, deals: list[Deal], activity_keys: list[list[str]]) -> dict[str, list[Any]]:
    """Primary keys per stream, as the contracts define them (sorted, for easy comparison)."""
    members = [
        [mailchimp.subscriber_hash(world.person(world.member_person(item.index, n)).email), item.id]
        for item in world.lists
        for n in range(world.list_size(item.index))
    ]
    return {
        "lists": sorted(item.id for item in world.lists),
        "list_members": sorted(members),
        "campaigns": sorted(campaign.id for campaign in world.campaigns),
        "email_activity": sorted(activity_keys),
        "contacts": sorted(
            [str(CONTACT_ID_BASE + index) for index in range(world.contact_count)]
            + [str(DUPLICATE_CONTACT_ID_BASE + n) for n in range(world.duplicate_count)]
        ),
        "companies": sorted(str(COMPANY_ID_BASE + index) for index in range(world.company_count)),
        "deals": sorted(str(deal.id) for deal in deals),
    }


def _cursors(world: World, deals: list[Deal]) -> dict[str, dict[str, Any]]:
    """Per stream, its cursor field and every record's key with its cursor value now: after an
    incremental sync the warehouse holds exactly these (rows sorted like ``keys``)."""
    members = sorted(
        [
            mailchimp.subscriber_hash(world.person(world.member_person(item.index, n)).email),
            item.id,
            mailchimp_time(world.member_last_changed(item.index, n)),
        ]
        for item in world.lists
        for n in range(world.list_size(item.index))
    )
    campaigns = sorted([c.id, mailchimp_time(c.create_ts)] for c in world.campaigns)
    contacts = (hubspot.contact(world, index, (), ()) for index in range(world.contact_records))
    companies = (hubspot.company(world, index, (), ()) for index in range(world.company_count))
    return {
        "list_members": {"field": "last_changed", "rows": members},
        "segments": {
            "field": "updated_at",
            "rows": sorted(
                [segment["id"], item.id, segment["updated_at"]]
                for item in world.lists
                for segment in mailchimp_segments.segments(world, item)
            ),
        },
        "campaigns": {"field": "create_time", "rows": campaigns},
        "contacts": {"field": "updatedAt", "rows": _updated(contacts)},
        "companies": {"field": "updatedAt", "rows": _updated(companies)},
        "deals": {
            "field": "updatedAt",
            "rows": _updated(hubspot.deal(world, deal, (), ()) for deal in deals),
        },
    }


def _updated(records: Iterable[dict[str, Any]]) -> list[list[str]]:
    return sorted([record["id"], record["updatedAt"]] for record in records)


def _quarantined(world: World, deal: Deal) -> bool:
    """Whether a correct pipeline must set this deal aside: its amount is missing, or its
    contact's email is invalid (so it joins to no MailChimp member)."""
    return (
        world.defect(dirty.Stream.DEALS, deal.person) == dirty.MISSING_AMOUNT
        or world.defect(dirty.Stream.CONTACTS, deal.person) == dirty.INVALID_EMAIL
    )


def _defect_counts(world: World, deals: list[Deal]) -> dict[str, dict[str, int]]:
    """Per stream, how many served records carry each defect (every defect listed, zeros too)."""
    members = (
        world.member_person(item.index, offset)
        for item in world.lists
        for offset in range(world.list_size(item.index))
    )
    records = {
        dirty.Stream.LIST_MEMBERS: members,
        dirty.Stream.CONTACTS: map(world.contact_person, range(world.contact_count)),
        dirty.Stream.COMPANIES: range(world.company_count),
        dirty.Stream.DEALS: (deal.person for deal in deals),
    }
    counts = {}
    for stream, indices in records.items():
        found = Counter(world.defect(stream, index) for index in indices)
        counts[stream.name.lower()] = {defect: found[defect] for defect in dirty.DEFECTS[stream]}
    # A duplicate of a contact whose email is invalid is that person's only valid record: no
    # deduplication removes it, so it does not count as a defect.
    counts["contacts"][dirty.DUPLICATE_PERSON] = sum(
        1
        for duplicate in range(world.duplicate_count)
        if world.defect(
            dirty.Stream.CONTACTS, world.contact_person(world.duplicated_contact(duplicate))
        )
        != dirty.INVALID_EMAIL
    )
    return counts
