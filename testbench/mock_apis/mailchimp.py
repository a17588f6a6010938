"""The world rendered as MailChimp Marketing API v3 records (lists, members, campaigns, email
activity).

Shapes follow the real API (see docs/real-apis.md): empty values are ``""``,
never null; timestamps are ``2026-03-01T08:12:59+00:00``; a member's ``id`` is the md5 of its
lowercased email.
"""

import struct
from hashlib import md5
from typing import Any

from testbench.mock_apis import dirty
from testbench.mock_apis.model import (
    CLEANED,
    SUBSCRIBED,
    UNSUBSCRIBED,
    AudienceList,
    Campaign,
    Person,
)
from testbench.mock_apis.rng import chance, digest, pick, spread
from testbench.mock_apis.timeline import mailchimp_time
from testbench.mock_apis.world import Kind, World

Record = dict[str, Any]

SIGNUP_SOURCES = ("API - Generic", "Admin Add", "Import", "Hosted Signup Form")
TAGS = ((101, "newsletter"), (102, "webinar"), (103, "trial"))
TAG_COUNTS = (0, 0, 0, 0, 0, 1, 1, 1, 2, 3)  # how many of TAGS a member carries: mostly none
# The random fields of a member's MailChimp-only attributes; the digest's bytes 20.. make its ids.
MEMBER_FIELDS = struct.Struct("<10H")
BIRTHDAYS = tuple(f"{month:02d}/{day:02d}" for month in range(1, 13) for day in range(1, 29))
# Real accounts report the data centre in their URLs; the mock's keys end in -us6.
ARCHIVE_HOST = "https://us6.campaign-archive.com"


def subscriber_hash(email: str) -> str:
    """MailChimp's member id: the md5 of the lowercased address."""
    return md5(email.lower().encode()).hexdigest()


def audience(world: World, item: AudienceList) -> Record:
    subscribed = world.count_members(item.index, (SUBSCRIBED,))
    sent = [c for c in world.campaigns if c.is_sent and c.list_index == item.index]
    return {
        "id": item.id,
        "web_id": item.web_id,
        "name": item.name,
        "contact": {
            "company": item.from_name,
            "address1": "1 Market Street",
            "address2": "",
            "city": "San Francisco",
            "state": "CA",
            "zip": "94105",
            "country": "US",
            "phone": "",
        },
        "permission_reminder": "You signed up on our website.",
        "use_archive_bar": True,
        "campaign_defaults": {
            "from_name": item.from_name,
            "from_email": item.from_email,
            "subject": "",
            "language": "en",
        },
        "notify_on_subscribe": "",
        "notify_on_unsubscribe": "",
        "date_created": mailchimp_time(item.created_ts),
        "list_rating": 3,
        "email_type_option": False,
        "subscribe_url_short": f"https://eepurl.com/{item.id[:6]}",
        "subscribe_url_long": f"https://mock.us6.list-manage.com/subscribe?id={item.id}",
        "beamer_address": "",
        "visibility": "pub",
        "double_optin": False,
        "has_welcome": False,
        "marketing_permissions": False,
        "modules": [],
        "stats": {
            "member_count": subscribed,
            "unsubscribe_count": world.count_members(item.index, (UNSUBSCRIBED,)),
            "cleaned_count": world.count_members(item.index, (CLEANED,)),
            "member_count_since_send": 0,
            "unsubscribe_count_since_send": 0,
            "cleaned_count_since_send": 0,
            "campaign_count": len(sent),
            "campaign_last_sent": mailchimp_time(sent[-1].send_ts) if sent else "",
            "merge_field_count": 4,
            "last_sub_date": _last_change(world, item, SUBSCRIBED),
            "last_unsub_date": _last_change(world, item, UNSUBSCRIBED),
        },
    }


def _last_change(world: World, item: AudienceList, status: str) -> str:
    """The ``last_changed`` of the last-joined member with this status ("" if none)."""
    selection = world.select_members(item.index, (status,))
    if not selection:
        return ""
    return mailchimp_time(
        world.member_last_changed(item.index, selection.offset(len(selection) - 1))
    )


def member(world: World, item: AudienceList, offset: int) -> Record:
    person = world.person(world.member_person(item.index, offset))
    random_bytes = digest(world.seed, Kind.MEMBER, person.index)
    (
        source_pick, tags_pick, address_roll, street_pick, zip_pick, phone_roll,
        birthday_roll, birthday_pick, rating_pick, vip_roll,
    ) = MEMBER_FIELDS.unpack_from(random_bytes)  # fmt: skip
    joined = mailchimp_time(person.created_ts)
    source = pick(SIGNUP_SOURCES, source_pick)
    imported = source == "Import"  # imports carry no signup details, as in real accounts
    tags = [{"id": tag_id, "name": name} for tag_id, name in TAGS[: pick(TAG_COUNTS, tags_pick)]]
    place = person.place
    open_rate = world.open_propensity(person.index)
    if chance(address_roll, 0.4):
        address: dict[str, str] | str = {
            "addr1": f"{spread(street_pick, 1, 999)} Main Street",
            "addr2": "",
            "city": place.city,
            "state": "",
            "zip": f"{spread(zip_pick, 10000, 99999)}",
            "country": place.country_code,
        }
    else:
        address = ""  # most members never give one; MailChimp then sends "" instead of an object
    record = {
        "id": subscriber_hash(person.email),
        "email_address": served_email(world, person),
        "unique_email_id": random_bytes[20:25].hex(),
        "contact_id": random_bytes[25:41].hex(),
        "full_name": f"{person.first_name} {person.last_name}".strip(),
        "web_id": 500_000_000 + person.index,
        "email_type": "html",
        "status": world.member_status(item.index, offset),
        "consents_to_one_to_one_messaging": True,
        "merge_fields": {
            "FNAME": person.first_name,
            "LNAME": person.last_name,
            "ADDRESS": address,
            "PHONE": person.phone if chance(phone_roll, 0.5) else "",
            "BIRTHDAY": pick(BIRTHDAYS, birthday_pick) if chance(birthday_roll, 0.3) else "",
        },
        "interests": {},
        "stats": {
            "avg_open_rate": round(open_rate, 2),
            "avg_click_rate": round(open_rate * 0.2, 2),
        },
        "ip_signup": "" if imported else person.ip,
        "timestamp_signup": "" if imported else joined,
        "ip_opt": person.ip,
        "timestamp_opt": joined,
        "member_rating": spread(rating_pick, 1, 5),
        "last_changed": mailchimp_time(world.member_last_changed(item.index, offset)),
        "language": "en",
        "vip": chance(vip_roll, 0.02),
        "email_client": "",
        "location": {
            "latitude": place.latitude,
            "longitude": place.longitude,
            "gmtoff": place.gmt_offset_hours,
            "dstoff": place.gmt_offset_hours,
            "country_code": place.country_code,
            "timezone": place.timezone,
            "region": "",
        },
        "source": source,
        "tags_count": len(tags),
        "tags": tags,
        "list_id": item.id,
    }
    return _with_name_defect(world, person.index, record)


def served_email(world: World, person: Person) -> str:
    """The member's address as MailChimp holds it: in capitals for a ``mixed_case`` member."""
    if world.defect(dirty.Stream.LIST_MEMBERS, person.index) == dirty.MIXED_CASE:
        return person.email.upper()
    return person.email


def _with_name_defect(world: World, person: int, record: Record) -> Record:
    """Apply a ``mixed_case`` or ``stray_whitespace`` defect to the member's names."""
    defect = world.defect(dirty.Stream.LIST_MEMBERS, person)
    if defect is None:
        return record
    value = dirty.roll(world.seed, dirty.Stream.LIST_MEMBERS, person)
    soil = dirty.mixed_case if defect == dirty.MIXED_CASE else dirty.stray_whitespace
    merge_fields = record["merge_fields"]
    merge_fields["FNAME"] = soil(merge_fields["FNAME"], value)
    merge_fields["LNAME"] = soil(merge_fields["LNAME"], value)
    record["full_name"] = soil(record["full_name"], value)
    return record


def campaign(world: World, item: Campaign, with_report: bool = True) -> Record:
    """A campaign. Its ``report_summary`` costs a pass over every recipient's activity the first
    time (then it is cached), so callers skip it when the client excluded it."""
    audience_item = world.lists[item.list_index]
    record: Record = {
        "id": item.id,
        "web_id": item.web_id,
        "type": "regular",
        "create_time": mailchimp_time(item.create_ts),
        "archive_url": f"{ARCHIVE_HOST}/?u=mock&id={item.id}",
        "long_archive_url": f"{ARCHIVE_HOST}/?u=mock&id={item.id}",
        "status": "sent" if item.is_sent else "save",
        "emails_sent": item.emails_sent,
        "send_time": mailchimp_time(item.send_ts) if item.is_sent else "",
        "content_type": "template",
        "needs_block_refresh": False,
        "resendable": item.is_sent,
        "recipients": {
            "list_id": audience_item.id,
            "list_is_active": True,
            "list_name": audience_item.name,
            "segment_text": "",
            "recipient_count": item.emails_sent
            if item.is_sent
            else world.count_members(item.list_index, (SUBSCRIBED,)),
        },
        "settings": {
            "subject_line": item.subject_line,
            "preview_text": "",
            "title": f"{audience_item.name} #{item.index + 1}",
            "from_name": audience_item.from_name,
            "reply_to": audience_item.from_email,
            "use_conversation": False,
            "to_name": "*|FNAME|*",
            "folder_id": "",
            "authenticate": True,
            "auto_footer": False,
            "inline_css": False,
            "auto_tweet": False,
            "fb_comments": True,
            "timewarp": False,
            "template_id": 1000 + item.list_index,
            "drag_and_drop": True,
        },
        "tracking": {
            "opens": True,
            "html_clicks": True,
            "text_clicks": False,
            "goal_tracking": False,
            "ecomm360": False,
            "google_analytics": "",
            "clicktale": "",
        },
        "delivery_status": {"enabled": False},
    }
    if item.is_sent and with_report:  # real drafts carry no report summary at all
        report = world.report(item)
        delivered = max(item.emails_sent - report.bounces, 1)
        record["report_summary"] = {
            "opens": report.opens,
            "unique_opens": report.unique_opens,
            "open_rate": report.unique_opens / delivered,
            "clicks": report.clicks,
            "subscriber_clicks": report.unique_clicks,
            "click_rate": report.unique_clicks / delivered,
            "ecommerce": {"total_orders": 0, "total_spent": 0, "total_revenue": 0},
        }
    return record


def email_activity(
    world: World, item: Campaign, recipient: int, since: int | None = None
) -> Record:
    """The n-th recipient of a sent campaign with their events (an empty list if none), only
    those at or after ``since`` if given."""
    person = world.person(world.recipient(item, recipient))
    activity = []
    for event in world.activity(item, person.index):
        if since is not None and event.ts < since:
            continue
        entry: Record = {"action": event.action}
        if event.bounce_type:
            entry["type"] = event.bounce_type
        entry["timestamp"] = mailchimp_time(event.ts)
        if event.url:
            entry["url"] = event.url
        entry["ip"] = person.ip
        activity.append(entry)
    return {
        "campaign_id": item.id,
        "list_id": world.lists[item.list_index].id,
        "list_is_active": True,
        "email_id": subscriber_hash(person.email),
        "email_address": served_email(world, person),
        "activity": activity,
    }
