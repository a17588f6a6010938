"""MailChimp audience segments and tags (``/lists/{id}/segments``, ``/lists/{id}/tag-search``).

Each audience has one saved segment per tag the members carry (``mailchimp.TAGS``), created with
the audience and re-evaluated by MailChimp whenever a campaign goes out to it, so its
``updated_at`` moves with the clock.
"""

from typing import Any

from testbench.mock_apis.mailchimp import TAGS
from testbench.mock_apis.model import AudienceList
from testbench.mock_apis.timeline import DAY, mailchimp_time
from testbench.mock_apis.world import World

Record = dict[str, Any]


def segments(world: World, item: AudienceList) -> list[Record]:
    sent = [c.send_ts for c in world.campaigns if c.is_sent and c.list_index == item.index]
    created = item.created_ts + DAY
    updated = sent[-1] if sent else created
    return [
        {
            "id": 10_000 * (item.index + 1) + tag_id,
            "name": f"Tagged {name}",
            "member_count": 0,  # the mock does not evaluate segment conditions
            "type": "saved",
            "created_at": mailchimp_time(created + number * 3600),
            "updated_at": mailchimp_time(updated),
            "options": {
                "match": "any",
                "conditions": [
                    {
                        "condition_type": "StaticSegment",
                        "field": "static_segment",
                        "op": "static_is",
                        "value": tag_id,
                    }
                ],
            },
            "list_id": item.id,
        }
        for number, (tag_id, name) in enumerate(TAGS)
    ]


def tags(name_filter: str) -> list[Record]:
    """The tags of an audience whose name starts with ``name_filter`` (case-insensitive)."""
    wanted = name_filter.lower()
    return [{"id": tag_id, "name": name} for tag_id, name in TAGS if name.startswith(wanted)]
