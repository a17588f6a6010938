"""Account-level HubSpot records: the owners (sales users) and the deal pipeline.

Both are small and fixed for a seed; objects refer to them by id (``hubspot_owner_id``,
``pipeline``, ``dealstage``), so a warehouse can join them.
"""

from typing import Any

from testbench.mock_apis.hubspot import OWNER_IDS
from testbench.mock_apis.model import CLOSED_LOST, CLOSED_WON, DEAL_STAGES
from testbench.mock_apis.pools import slug
from testbench.mock_apis.rng import pick
from testbench.mock_apis.timeline import START_TS, hubspot_time
from testbench.mock_apis.world import World

Record = dict[str, Any]

STAGE_LABELS = {
    "appointmentscheduled": "Appointment Scheduled",
    "qualifiedtobuy": "Qualified To Buy",
    "presentationscheduled": "Presentation Scheduled",
    "decisionmakerboughtin": "Decision Maker Bought-In",
    "contractsent": "Contract Sent",
    CLOSED_WON: "Closed Won",
    CLOSED_LOST: "Closed Lost",
}
# HubSpot's default win probabilities per stage, as strings (its metadata values are strings).
STAGE_PROBABILITIES = ("0.2", "0.4", "0.6", "0.8", "0.9", "1.0", "0.0")
# The account exists well before the history starts.
ACCOUNT_CREATED_MS = (START_TS - 400 * 86_400) * 1000


def owners(world: World) -> list[Record]:
    company_domain = f"{slug(world.pools.company_names[0])}.com"
    records = []
    for number, owner_id in enumerate(OWNER_IDS):
        first = pick(world.pools.first_names, 7 * number + 3)
        last = pick(world.pools.last_names, 11 * number + 5)
        records.append(
            {
                "id": owner_id,
                "email": f"{slug(first)}.{slug(last)}@{company_domain}",
                "type": "PERSON",
                "firstName": first,
                "lastName": last,
                "userId": 9_100_000 + number,
                "userIdIncludingInactive": 9_100_000 + number,
                "createdAt": hubspot_time(ACCOUNT_CREATED_MS + number * 86_400_000),
                "updatedAt": hubspot_time(ACCOUNT_CREATED_MS + number * 86_400_000),
                "archived": False,
                "teams": [{"id": "4100", "name": "Sales", "primary": True}],
            }
        )
    return records


def deal_pipelines() -> list[Record]:
    created = hubspot_time(ACCOUNT_CREATED_MS)
    stages = [
        {
            "id": stage,
            "label": STAGE_LABELS[stage],
            "displayOrder": order,
            "metadata": {
                "isClosed": "true" if stage in (CLOSED_WON, CLOSED_LOST) else "false",
                "probability": STAGE_PROBABILITIES[order],
            },
            "createdAt": created,
            "updatedAt": created,
            "archived": False,
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        }
        for order, stage in enumerate(DEAL_STAGES)
    ]
    return [
        {
            "id": "default",
            "label": "Sales Pipeline",
            "displayOrder": 0,
            "createdAt": created,
            "updatedAt": created,
            "archived": False,
            "stages": stages,
        }
    ]
