"""The mock APIs over real HTTP: auth, paging, record shapes and the ground truth they promise.

Everything is checked against the mock's own truth (``/_mock/truth``) or recomputed from what the
server served, never against hard-coded numbers, so the tests hold for any seed and scale.
"""

import tracemalloc
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

import pytest
import requests

from testbench.mock_apis import hubspot, mailchimp
from testbench.mock_apis.truth import truth
from testbench.mock_apis.world import World

TIMEOUT = (5, 60)
HUBSPOT_TYPES = ("contacts", "companies", "deals")


@pytest.fixture(scope="module")
def session() -> requests.Session:
    with requests.Session() as http:
        yield http


def walk_mailchimp(mock_api, session, path: str, key: str, count: int, **params: Any) -> list:
    """Every record of a MailChimp collection, page by page, as a client pages it."""
    records: list = []
    offset, total = 0, None
    while total is None or offset < total:
        page = mock_api.mailchimp(path, count=count, offset=offset, **params)
        assert total in (None, page["total_items"]), "total_items must not move while paging"
        total = page["total_items"]
        assert len(page[key]) == min(count, total - offset)
        records += page[key]
        offset += count
    return records


def walk_hubspot(mock_api, session, object_type: str, **params: Any) -> list:
    """Every object of a HubSpot type, following the ``after`` cursor until paging disappears."""
    records: list = []
    after = None
    while True:
        page = mock_api.hubspot(f"/crm/v3/objects/{object_type}", limit=7, after=after, **params)
        records += page["results"]
        if "paging" not in page:
            return records
        assert page["results"], "a page with a next link is never empty"
        after = page["paging"]["next"]["after"]


@pytest.fixture(scope="module")
def served(mock_api, session) -> dict[str, Any]:
    """Everything the server serves, walked once with small pages."""
    lists = walk_mailchimp(mock_api, session, "/lists", "lists", count=2)
    members = [
        member
        for item in lists
        for member in walk_mailchimp(
            mock_api, session, f"/lists/{item['id']}/members", "members", count=7
        )
    ]
    campaigns = walk_mailchimp(mock_api, session, "/campaigns", "campaigns", count=9)
    activity = {
        campaign["id"]: walk_mailchimp(
            mock_api, session, f"/reports/{campaign['id']}/email-activity", "emails", count=50
        )
        for campaign in campaigns
        if campaign["status"] == "sent"
    }
    hubspot_objects = {
        "contacts": walk_hubspot(mock_api, session, "contacts", properties="email"),
        "companies": walk_hubspot(mock_api, session, "companies"),
        "deals": walk_hubspot(
            mock_api,
            session,
            "deals",
            properties="dealstage,amount,createdate,closedate,hs_is_closed,hs_is_closed_won",
            associations="contacts",
        ),
    }
    return {
        "lists": lists,
        "members": members,
        "campaigns": campaigns,
        "activity": activity,
        **hubspot_objects,
    }


@pytest.fixture(scope="module")
def expected(mock_api) -> dict[str, Any]:
    return mock_api.truth(keys=True)


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


# -- auth and errors -----------------------------------------------------------------------------


def test_health_reports_the_world(mock_api, session):
    health = session.get(f"{mock_api.url}/_mock/health", timeout=TIMEOUT).json()
    assert health["status"] == "ok"
    assert (health["seed"], health["scale"]) == (mock_api.seed, mock_api.scale)


def test_mailchimp_rejects_a_missing_or_wrong_key(mock_api, session):
    url = f"{mock_api.mailchimp_base_url}/lists"
    missing = session.get(url, timeout=TIMEOUT)
    wrong = session.get(url, auth=("anystring", "0" * 32 + "-us6"), timeout=TIMEOUT)
    for response, title in ((missing, "API Key Missing"), (wrong, "API Key Invalid")):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["title"] == title and body["status"] == 401
        assert set(body) == {"type", "title", "status", "detail", "instance"}
    ping = mock_api.mailchimp("/ping")
    assert ping == {"health_status": "Everything's Chimpy!"}


def test_hubspot_rejects_a_missing_or_wrong_token(mock_api, session):
    url = f"{mock_api.hubspot_base_url}/crm/v3/objects/contacts"
    for headers in ({}, {"Authorization": "Bearer pat-na1-not-the-token"}):
        response = session.get(url, headers=headers, timeout=TIMEOUT)
        assert response.status_code == 401
        body = response.json()
        assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
        assert {"message", "correlationId"} <= set(body)


def test_unknown_resources_are_404_in_each_api_style(mock_api):
    missing = mock_api.mailchimp("/lists/0000000000/members", expect=404)
    assert missing["title"] == "Resource Not Found"
    missing = mock_api.hubspot("/crm/v3/objects/deals/1", expect=404)
    assert missing["category"] == "OBJECT_NOT_FOUND"


def test_mailchimp_rejects_pages_above_its_maximum(mock_api):
    too_large = mock_api.mailchimp("/lists", expect=400, count=1001)
    assert too_large["title"] == "Invalid Resource"


# -- paging: every record exactly once -----------------------------------------------------------


def test_mailchimp_paging_serves_every_record_once(served, expected):
    counts, keys = expected["counts"], expected["keys"]
    assert sorted(item["id"] for item in served["lists"]) == keys["lists"]
    member_keys = sorted([member["id"], member["list_id"]] for member in served["members"])
    assert len(member_keys) == counts["list_members"]
    assert member_keys == keys["list_members"]
    assert sorted(campaign["id"] for campaign in served["campaigns"]) == keys["campaigns"]
    events = sorted(
        [element["campaign_id"], element["email_id"], event["action"], event["timestamp"]]
        for elements in served["activity"].values()
        for element in elements
        for event in element["activity"]
    )
    assert len(events) == counts["email_activity"]
    assert events == keys["email_activity"]


def test_hubspot_paging_serves_every_object_once(served, expected):
    for object_type in HUBSPOT_TYPES:
        ids = [item["id"] for item in served[object_type]]
        assert len(ids) == expected["counts"][object_type], object_type
        assert sorted(ids) == expected["keys"][object_type], object_type


# -- record shapes and their consistency ---------------------------------------------------------


def test_member_ids_are_the_md5_of_the_lowercased_email(served):
    for member in served["members"]:
        assert member["id"] == mailchimp.subscriber_hash(member["email_address"].lower())
        assert set(member["merge_fields"]) >= {"FNAME", "LNAME"}
        assert member["merge_fields"]["FNAME"] is not None  # MailChimp sends "", never null


def test_emails_sent_equals_the_recipients_served_in_email_activity(served, expected):
    by_id = {row["campaign_id"]: row for row in expected["campaigns"]}
    sent = [campaign for campaign in served["campaigns"] if campaign["status"] == "sent"]
    assert len(sent) == expected["counts"]["sent_campaigns"]
    for campaign in sent:
        recipients = served["activity"][campaign["id"]]
        assert campaign["emails_sent"] == len(recipients) == by_id[campaign["id"]]["emails_sent"]
        assert len({element["email_id"] for element in recipients}) == len(recipients)
    for campaign in served["campaigns"]:
        if campaign["status"] != "sent":
            assert (campaign["send_time"], campaign["emails_sent"]) == ("", 0)


def test_email_activity_agrees_with_reports_and_time(served, expected):
    by_id = {row["campaign_id"]: row for row in expected["campaigns"]}
    now = parse(expected["now"])
    for campaign in served["campaigns"]:
        if campaign["status"] != "sent":
            continue
        send_time = parse(campaign["send_time"])
        tally: Counter[str] = Counter()
        openers, clickers = set(), set()
        for element in served["activity"][campaign["id"]]:
            seen = [(event["action"], event["timestamp"]) for event in element["activity"]]
            assert len(seen) == len(set(seen)), "no two events share (action, timestamp)"
            actions = {event["action"] for event in element["activity"]}
            assert not ("bounce" in actions and actions - {"bounce"}), "a bounce has no opens"
            assert "click" not in actions or "open" in actions, "clicks follow an open"
            for event in element["activity"]:
                assert send_time < parse(event["timestamp"]) < now
                tally[event["action"]] += 1
            if "open" in actions:
                openers.add(element["email_id"])
            if "click" in actions:
                clickers.add(element["email_id"])
        row = by_id[campaign["id"]]
        assert (tally["open"], len(openers)) == (row["opens"], row["unique_opens"])
        assert (tally["click"], len(clickers)) == (row["clicks"], row["unique_clicks"])
        assert tally["bounce"] == row["bounces"]
        summary = campaign["report_summary"]
        assert (summary["opens"], summary["unique_opens"]) == (row["opens"], row["unique_opens"])
        assert (summary["clicks"], summary["subscriber_clicks"]) == (
            row["clicks"],
            row["unique_clicks"],
        )


def test_email_activity_is_about_ten_events_per_member(expected):
    counts = expected["counts"]
    assert 6 <= counts["email_activity"] / counts["list_members"] <= 14


def test_systems_overlap_by_about_60_percent_with_messy_emails(served, expected):
    mailchimp_emails = {member["email_address"] for member in served["members"]}
    raw_hubspot_emails = [contact["properties"]["email"] for contact in served["contacts"]]
    hubspot_emails = {email.strip().lower() for email in raw_hubspot_emails}
    both = mailchimp_emails & hubspot_emails
    assert len(both) == expected["people"]["both"]
    assert 0.5 <= len(both) / len(mailchimp_emails | hubspot_emails) <= 0.7
    messy = [email for email in raw_hubspot_emails if email != email.strip().lower()]
    assert messy, "some CRM emails differ from MailChimp's in case or whitespace"
    assert len(messy) < len(raw_hubspot_emails) / 4


def test_properties_endpoint_lists_every_property_objects_carry(mock_api, session):
    for object_type in HUBSPOT_TYPES:
        catalog = mock_api.hubspot(f"/crm/v3/properties/{object_type}")["results"]
        names = {definition["name"] for definition in catalog}
        assert all(definition["type"] and definition["fieldType"] for definition in catalog)
        everything = mock_api.hubspot(
            f"/crm/v3/objects/{object_type}",
            limit=100,
            properties=",".join(sorted(names)) + ",not_a_property",
        )["results"]
        defaults = mock_api.hubspot(f"/crm/v3/objects/{object_type}", limit=100)
        assert everything
        for item in everything:
            assert set(item["properties"]) == names, object_type
            assert all(
                value is None or isinstance(value, str) for value in item["properties"].values()
            )
            assert item["archived"] is False and item["createdAt"].endswith("Z")
        for item in defaults["results"]:
            assert set(item["properties"]) == set(hubspot.DEFAULT_PROPERTIES[object_type])


def test_deals_tell_a_consistent_story(served):
    for deal in served["deals"]:
        properties = deal["properties"]
        stage = properties["dealstage"]
        assert stage in hubspot.DEAL_STAGES
        is_closed = stage in ("closedwon", "closedlost")
        assert properties["hs_is_closed"] == str(is_closed).lower()
        assert properties["hs_is_closed_won"] == str(stage == "closedwon").lower()
        assert parse(properties["closedate"]) > parse(properties["createdate"])
        assert float(properties["amount"]) > 0
        contacts = deal["associations"]["contacts"]["results"]
        assert [link["type"] for link in contacts] == ["deal_to_contact"]


@pytest.mark.parametrize("window_days", [30, 10])
def test_campaign_attribution_can_be_rebuilt_from_what_was_served(mock_api, served, window_days):
    """The marts' question, answered from served data alone, must match the truth."""
    email_of_contact = {
        contact["id"]: contact["properties"]["email"].strip().lower()
        for contact in served["contacts"]
    }
    won_deals_of_email = defaultdict(list)
    for deal in served["deals"]:
        if deal["properties"]["dealstage"] == "closedwon":
            contact_id = deal["associations"]["contacts"]["results"][0]["id"]
            won_deals_of_email[email_of_contact[contact_id]].append(deal)
    rebuilt = {}
    for campaign_id, elements in served["activity"].items():
        attributed = {}
        for element in elements:
            clicks = [parse(e["timestamp"]) for e in element["activity"] if e["action"] == "click"]
            if not clicks:
                continue
            first_click = min(clicks)
            for deal in won_deals_of_email[element["email_address"]]:
                created = parse(deal["properties"]["createdate"])
                if 0 <= (created - first_click).total_seconds() <= window_days * 86_400:
                    attributed[deal["id"]] = float(deal["properties"]["amount"])
        rebuilt[campaign_id] = (len(attributed), round(sum(attributed.values()), 2))
    expected = mock_api.truth(attribution_window_days=window_days)
    assert rebuilt == {
        row["campaign_id"]: (row["won_deals"], row["won_revenue"]) for row in expected["campaigns"]
    }
    if window_days == 30:  # the world must make the question interesting
        assert sum(won_deals for won_deals, _ in rebuilt.values()) > 0


# -- filters and field selection -----------------------------------------------------------------


def test_member_filters_agree_with_the_full_walk(mock_api, session, served):
    item = served["lists"][0]
    members = [member for member in served["members"] if member["list_id"] == item["id"]]
    since = members[len(members) // 2]["last_changed"]
    path = f"/lists/{item['id']}/members"
    filtered = walk_mailchimp(
        mock_api, session, path, "members", count=5, status="subscribed", since_last_changed=since
    )
    assert [member["id"] for member in filtered] == [
        member["id"]
        for member in members
        if member["status"] == "subscribed" and member["last_changed"] >= since
    ]
    slim = mock_api.mailchimp(path, count=3, fields="members.email_address,total_items")
    assert set(slim) == {"members", "total_items"}
    assert all(set(member) == {"email_address"} for member in slim["members"])
    lean = mock_api.mailchimp(path, count=3, exclude_fields="members.merge_fields")
    assert all("merge_fields" not in member for member in lean["members"])


def test_campaign_fields_can_leave_out_the_costly_report(mock_api, session):
    page = mock_api.mailchimp("/campaigns", count=5, exclude_fields="campaigns.report_summary")
    assert page["campaigns"] and all("report_summary" not in c for c in page["campaigns"])
    only_ids = mock_api.mailchimp("/campaigns", count=5, fields="campaigns.id")
    assert all(set(campaign) == {"id"} for campaign in only_ids["campaigns"])


# -- determinism, scale and time -----------------------------------------------------------------


def sample(world: World) -> list[Any]:
    """A few records of every kind, rendered as the APIs serve them."""
    item = world.lists[1]
    campaign = next(c for c in reversed(world.campaigns) if c.is_sent)
    names = hubspot.DEFAULT_PROPERTIES["contacts"]
    return [
        *(mailchimp.member(world, item, offset) for offset in (0, 17, 40)),
        mailchimp.campaign(world, campaign),
        *(mailchimp.email_activity(world, campaign, n) for n in range(5)),
        *(hubspot.contact(world, index, names, ("companies",)) for index in (0, 33)),
        [deal.id for deal in world.all_deals()],
    ]


def test_the_world_is_a_pure_function_of_its_seed():
    assert sample(World(seed=11, scale=200)) == sample(World(seed=11, scale=200))
    assert sample(World(seed=11, scale=200)) != sample(World(seed=12, scale=200))


def test_the_served_world_is_the_one_computed_in_process(mock_api):
    served_truth = mock_api.truth(keys=True)
    assert served_truth == truth(World(mock_api.seed, mock_api.scale), keys=True)


def test_a_huge_world_serves_its_last_pages_without_materialising_people():
    world = World(seed=3, scale=1_000_000)
    item = world.lists[2]
    size = world.list_size(item.index)
    assert world.member_count > 800_000
    tracemalloc.start()
    try:
        page = [mailchimp.member(world, item, offset) for offset in range(size - 1000, size)]
        contacts = [
            hubspot.contact(world, index, ("email",), ())
            for index in range(world.contact_count - 100, world.contact_count)
        ]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(page) == 1000 and len(contacts) == 100
    assert page[-1]["timestamp_opt"] < "2026-06-01"
    assert peak < 20_000_000, "a page must cost memory in proportion to the page, not the world"


def test_advancing_the_clock_only_adds_to_the_past():
    before, after = World(seed=5, scale=300), World(seed=5, scale=300, days_advanced=10)
    assert after.people_count > before.people_count
    assert len(after.campaigns) > len(before.campaigns)
    item = before.lists[0]
    offsets = range(before.list_size(item.index))
    assert [mailchimp.member(before, item, o) for o in offsets] == [
        mailchimp.member(after, item, o) for o in offsets
    ]
    for old, new in zip(before.campaigns, after.campaigns, strict=False):
        if old.is_sent:
            assert (old.id, old.emails_sent) == (new.id, new.emails_sent)
