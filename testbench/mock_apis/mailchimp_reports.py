"""MailChimp campaign reports (``/reports``) and their unsubscribes, rendered from the world.

A report's numbers are the campaign's activity aggregates (``World.report``: one pass over its
recipients the first time, then cached), so they always agree with ``email-activity``.
"""

from typing import Any

from testbench.mock_apis import mailchimp
from testbench.mock_apis.model import Campaign
from testbench.mock_apis.timeline import mailchimp_time
from testbench.mock_apis.world import World

Record = dict[str, Any]


def _time_or_empty(ts: int) -> str:
    return mailchimp_time(ts) if ts else ""


def report(world: World, item: Campaign) -> Record:
    audience = world.lists[item.list_index]
    numbers = world.report(item)
    delivered = max(item.emails_sent - numbers.bounces, 1)
    return {
        "id": item.id,
        "campaign_title": f"{audience.name} #{item.index + 1}",
        "type": "regular",
        "list_id": audience.id,
        "list_is_active": True,
        "list_name": audience.name,
        "subject_line": item.subject_line,
        "preview_text": "",
        "emails_sent": item.emails_sent,
        "abuse_reports": 0,
        "unsubscribed": len(world.unsubscribes(item)),
        "send_time": mailchimp_time(item.send_ts),
        "bounces": {
            "hard_bounces": numbers.hard_bounces,
            "soft_bounces": numbers.bounces - numbers.hard_bounces,
            "syntax_errors": 0,
        },
        "forwards": {"forwards_count": 0, "forwards_opens": 0},
        "opens": {
            "opens_total": numbers.opens,
            "unique_opens": numbers.unique_opens,
            "open_rate": numbers.unique_opens / delivered,
            "last_open": _time_or_empty(numbers.last_open_ts),
        },
        "clicks": {
            "clicks_total": numbers.clicks,
            "unique_clicks": numbers.unique_clicks,
            "unique_subscriber_clicks": numbers.unique_clicks,
            "click_rate": numbers.unique_clicks / delivered,
            "last_click": _time_or_empty(numbers.last_click_ts),
        },
        "list_stats": {"sub_rate": 0, "unsub_rate": 0, "open_rate": 0, "click_rate": 0},
        "ecommerce": {"total_orders": 0, "total_spent": 0, "total_revenue": 0, "currency_code": ""},
        "delivery_status": {"enabled": False},
    }


def unsubscribe(world: World, item: Campaign, offset: int) -> Record:
    member = mailchimp.member(world, world.lists[item.list_index], offset)
    return {
        "email_id": member["id"],
        "email_address": member["email_address"],
        "merge_fields": member["merge_fields"],
        "vip": member["vip"],
        "timestamp": member["last_changed"],
        "reason": "N/A (Unsubscribed via link)",
        "campaign_id": item.id,
        "list_id": member["list_id"],
        "list_is_active": True,
    }
