"""What the world's HubSpot portal does not use, answered as HubSpot answers a portal without it.

The world models contacts, companies, deals, owners, the deal pipeline and marketing email
events. A client written for the real API (Airbyte's published source-hubspot, say) also asks for
tickets, products, line items, engagements, forms, workflows, lists, subscriptions, custom object
schemas and so on. For each, the real API answers a portal that has none with its usual envelope
and no rows, never a 404: so does the mock. Nothing here invents data.
"""

from typing import Any

from testbench.mock_apis.hubspot_account import ACCOUNT_CREATED_MS, deal_pipelines
from testbench.mock_apis.hubspot_email_events import PORTAL_ID
from testbench.mock_apis.model import CLOSED_WON
from testbench.mock_apis.world import World

Record = dict[str, Any]

# HubSpot's standard objects the portal holds none of: plural name -> its other names.
UNUSED_OBJECTS: dict[str, tuple[str, ...]] = {
    "tickets": ("ticket", "0-5"),
    "products": ("product", "0-7"),
    "line_items": ("line_item", "0-8"),
    "quotes": ("quote", "0-14"),
    "calls": ("call", "0-48"),
    "emails": ("email", "0-49"),
    "meetings": ("meeting", "0-47"),
    "notes": ("note", "0-46"),
    "tasks": ("task", "0-27"),
    "communications": ("communication", "0-18"),
    "postal_mail": ("0-116",),
    "feedback_submissions": ("feedback_submission", "0-19"),
    "goal_targets": ("goal_target", "0-74"),
    "leads": ("lead", "0-136"),
    "deal_splits": ("deal_split",),
    "forms": ("form",),
}
UNUSED_NAMES = {
    alias: plural for plural, aliases in UNUSED_OBJECTS.items() for alias in (plural, *aliases)
}
# The properties every HubSpot object type defines, whatever else it has.
BASE_PROPERTIES = (
    ("hs_object_id", "Record ID", "number", "number"),
    ("hs_createdate", "Create Date", "datetime", "date"),
    ("hs_lastmodifieddate", "Last Modified Date", "datetime", "date"),
)


def unused_type(name: str) -> str | None:
    """The plural name of a standard object type the portal does not use, else None."""
    return UNUSED_NAMES.get(name)


def properties(object_type: str) -> list[Record]:
    singular = UNUSED_OBJECTS[object_type][0] if object_type != "postal_mail" else object_type
    return [
        {
            "name": name,
            "label": label,
            "type": kind,
            "fieldType": field_type,
            "groupName": f"{singular}information",
            "description": "",
            "options": [],
            "hidden": False,
            "hasUniqueValue": name == "hs_object_id",
            "formField": False,
        }
        for name, label, kind, field_type in BASE_PROPERTIES
    ]


def legacy_contacts(world: World, offset: int, count: int) -> Record:
    """``/contacts/v1/lists/all/contacts/all``: every contact, with the legacy API's
    list memberships, form submissions and merge audits, none of which the portal has."""
    end = min(offset + count, world.contact_count)
    contacts = []
    for index in range(offset, end):
        vid = world.contact_id(world.contact_person(index))
        contacts.append(
            {
                "vid": vid,
                "canonical-vid": vid,
                "merged-vids": [],
                "portal-id": PORTAL_ID,
                "is-contact": True,
                "properties": {},
                "form-submissions": [],
                "list-memberships": [],
                "identity-profiles": [],
                "merge-audits": [],
            }
        )
    return {"contacts": contacts, "has-more": end < world.contact_count, "vid-offset": end}


def legacy_deal_pipelines() -> list[Record]:
    """``/crm-pipelines/v1/pipelines/deals``: the v3 pipeline in the v1 shape."""
    found = []
    for pipeline in deal_pipelines():
        stages = [
            {
                "stageId": stage["id"],
                "label": stage["label"],
                "displayOrder": stage["displayOrder"],
                "probability": float(stage["metadata"]["probability"]),
                "closedWon": stage["id"] == CLOSED_WON,
                "active": True,
                "metadata": stage["metadata"],
            }
            for stage in pipeline["stages"]
        ]
        found.append(
            {
                "pipelineId": pipeline["id"],
                "objectType": "DEAL",
                "objectTypeId": "0-3",
                "label": pipeline["label"],
                "displayOrder": pipeline["displayOrder"],
                "active": True,
                "default": True,
                "createdAt": ACCOUNT_CREATED_MS,
                "updatedAt": ACCOUNT_CREATED_MS,
                "stages": stages,
            }
        )
    return found


# Path -> the empty answer of an endpoint whose resource the portal has none of.
EMPTY_GETS: dict[str, Record] = {
    "/crm/v3/schemas": {"results": []},
    "/email/public/v1/campaigns": {"campaigns": [], "hasMore": False, "offset": ""},
    "/email/public/v1/subscriptions": {"subscriptionDefinitions": []},
    "/email/public/v1/subscriptions/timeline": {"timeline": [], "hasMore": False, "offset": ""},
    "/marketing-emails/v1/emails/with-statistics": {
        "objects": [],
        "total": 0,
        "offset": 0,
        "limit": 250,
    },
    "/marketing/v3/forms": {"results": []},
    "/automation/v3/workflows": {"workflows": []},
    "/engagements/v1/engagements/paged": {"results": [], "hasMore": False, "offset": 0},
    "/engagements/v1/engagements/recent/modified": {
        "results": [],
        "hasMore": False,
        "offset": 0,
        "total": 0,
    },
    "/events/v3/events": {"results": []},
}
