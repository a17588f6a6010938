"""The endpoints the connectors need for full-fidelity ingestion, over real HTTP against the shared
server: each answer is checked against the ground truth or against another endpoint that must
agree with it, never against hard-coded numbers.
"""

from collections import Counter
from typing import Any

import pytest
import requests

from testbench.mock_apis import hubspot
from testbench.mock_apis.hubspot_search import MAX_RESULTS
from testbench.mock_apis.model import DEAL_STAGES
from testbench.mock_apis.timeline import parse_time

TIMEOUT = (5, 60)


@pytest.fixture(scope="module")
def http() -> requests.Session:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def mailchimp(mock_api):
    return mock_api.mailchimp


@pytest.fixture(scope="module")
def hubspot_api(mock_api):
    return mock_api.hubspot


@pytest.fixture(scope="module")
def truth(mock_api) -> dict[str, Any]:
    return mock_api.truth(keys=True)


def all_pages(get, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    while True:
        page = get(path, count=1000, offset=len(records), **params)
        records += page[key]
        if len(records) >= page["total_items"]:
            return records


# -- MailChimp -----------------------------------------------------------------------------------


def test_ping(mailchimp):
    assert mailchimp("/ping") == {"health_status": "Everything's Chimpy!"}


def test_what_the_account_does_not_use_answers_empty_not_404(mailchimp, truth):
    """Automations, groups, segment members, a draft's unsubscribes: empty, as MailChimp
    answers an account without them (Airbyte's published connector reads them all)."""
    assert mailchimp("/automations")["automations"] == []
    for list_id in truth["keys"]["lists"]:
        assert mailchimp(f"/lists/{list_id}/interest-categories")["categories"] == []
        for segment in mailchimp(f"/lists/{list_id}/segments")["segments"]:
            members = mailchimp(f"/lists/{list_id}/segments/{segment['id']}/members")
            assert members["members"] == [] and segment["member_count"] == 0
    drafts = set(truth["keys"]["campaigns"]) - set(truth["keys"]["reports"])
    assert drafts, "the world has no draft campaign to ask about"
    for campaign_id in drafts:
        assert mailchimp(f"/reports/{campaign_id}/unsubscribed")["total_items"] == 0


def test_reports_agree_with_the_truth(mailchimp, truth):
    reports = all_pages(mailchimp, "/reports", "reports")
    expected = {row["campaign_id"]: row for row in truth["campaigns"]}
    assert {report["id"] for report in reports} == expected.keys()
    for report in reports:
        row = expected[report["id"]]
        assert report["emails_sent"] == row["emails_sent"]
        assert report["opens"]["opens_total"] == row["opens"]
        assert report["opens"]["unique_opens"] == row["unique_opens"]
        assert report["clicks"]["clicks_total"] == row["clicks"]
        assert report["clicks"]["unique_clicks"] == row["unique_clicks"]
        bounces = report["bounces"]
        assert bounces["hard_bounces"] + bounces["soft_bounces"] == row["bounces"]
    one = reports[-1]
    assert mailchimp(f"/reports/{one['id']}") == one
    since = reports[len(reports) // 2]["send_time"]
    later = all_pages(mailchimp, "/reports", "reports", since_send_time=since)
    assert later == [report for report in reports if report["send_time"] >= since]


def test_email_activity_since_keeps_only_later_events(mailchimp, truth):
    campaign = truth["campaigns"][-3]["campaign_id"]
    path = f"/reports/{campaign}/email-activity"
    full = all_pages(mailchimp, path, "emails")
    times = sorted(event["timestamp"] for email in full for event in email["activity"])
    since = times[len(times) // 2]
    filtered = all_pages(mailchimp, path, "emails", since=since)
    assert [email["email_id"] for email in filtered] == [email["email_id"] for email in full]
    expected = [
        [event for event in email["activity"] if event["timestamp"] >= since] for email in full
    ]
    assert [email["activity"] for email in filtered] == expected


def test_unsubscribes_are_members_who_left_after_the_campaign(mailchimp, truth):
    members = {
        (member["id"], item["id"]): member
        for item in all_pages(mailchimp, "/lists", "lists")
        for member in all_pages(mailchimp, f"/lists/{item['id']}/members", "members")
    }
    seen = Counter()
    for row in truth["campaigns"]:
        page = mailchimp(f"/reports/{row['campaign_id']}/unsubscribed", count=1000)
        assert page["total_items"] == len(page["unsubscribes"])
        report = mailchimp(f"/reports/{row['campaign_id']}", fields="unsubscribed")
        assert report == {"unsubscribed": page["total_items"]}
        for unsubscribe in page["unsubscribes"]:
            member = members[(unsubscribe["email_id"], unsubscribe["list_id"])]
            assert member["status"] == "unsubscribed"
            assert unsubscribe["timestamp"] == member["last_changed"] > row["send_time"]
            seen[unsubscribe["email_id"]] += 1
    assert seen, "members leave, some by unsubscribing"
    assert all(count == 1 for count in seen.values()), "one unsubscribe per member"


def test_segments_and_tags(mailchimp, truth):
    list_id = truth["keys"]["lists"][0]
    segments = mailchimp(f"/lists/{list_id}/segments")["segments"]
    assert segments and all(segment["list_id"] == list_id for segment in segments)
    newest = max(segment["updated_at"] for segment in segments)
    recent = mailchimp(f"/lists/{list_id}/segments", since_updated_at=newest)["segments"]
    assert recent == [segment for segment in segments if segment["updated_at"] >= newest]
    assert mailchimp(f"/lists/{list_id}/segments", since_created_at="2100-01-01T00:00:00Z") == {
        "segments": [],
        "list_id": list_id,
        "total_items": 0,
        "_links": [],
    }
    tags = mailchimp(f"/lists/{list_id}/tag-search")
    assert tags["total_items"] == len(tags["tags"]) > 0


def test_field_selection_works_on_every_collection(mailchimp, truth):
    campaign = truth["campaigns"][0]["campaign_id"]
    assert mailchimp("/reports", fields="total_items") == {"total_items": len(truth["campaigns"])}
    report = mailchimp(f"/reports/{campaign}", exclude_fields="opens,clicks,bounces")
    assert "opens" not in report and report["id"] == campaign


def test_unknown_report_is_an_rfc7807_404(mock_api, http):
    response = http.get(
        f"{mock_api.mailchimp_base_url}/reports/nope/unsubscribed",
        auth=mock_api.mailchimp_auth,
        timeout=TIMEOUT,
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Resource Not Found"


# -- HubSpot -------------------------------------------------------------------------------------


def every(call, object_type: str, **params: Any) -> list[dict[str, Any]]:
    records, after = [], None
    while True:
        page = call(f"/crm/v3/objects/{object_type}", limit=100, after=after, **params)
        records += page["results"]
        if "paging" not in page:
            return records
        after = page["paging"]["next"]["after"]


def test_owners_and_pipelines_cover_what_objects_refer_to(hubspot_api):
    owner_ids = {owner["id"] for owner in hubspot_api("/crm/v3/owners")["results"]}
    deals = every(hubspot_api, "deals", properties="hubspot_owner_id,dealstage,pipeline")
    assert {deal["properties"]["hubspot_owner_id"] for deal in deals} <= owner_ids
    (pipeline,) = hubspot_api("/crm/v3/pipelines/deals")["results"]
    assert [stage["id"] for stage in pipeline["stages"]] == list(DEAL_STAGES)
    assert {deal["properties"]["pipeline"] for deal in deals} == {pipeline["id"]}


def test_legacy_properties_are_the_v3_catalog_as_a_bare_array(hubspot_api):
    for object_type in ("contacts", "companies", "deals"):
        legacy = hubspot_api(f"/properties/v2/{object_type}/properties")
        assert legacy == hubspot_api(f"/crm/v3/properties/{object_type}")["results"]


@pytest.mark.parametrize(
    ("from_type", "to_type"),
    [
        ("contacts", "companies"),
        ("contacts", "deals"),
        ("deals", "contacts"),
        ("deals", "companies"),
    ],
)
def test_associations_v4_agree_with_list_reads(hubspot_api, from_type, to_type):
    objects = every(hubspot_api, from_type, associations=to_type)
    expected = {
        record["id"]: sorted(int(link["id"]) for link in record["associations"][to_type]["results"])
        for record in objects
        if "associations" in record
    }
    body = {"inputs": [{"id": record["id"]} for record in objects[:100]] + [{"id": "1"}]}
    answer = hubspot_api(f"/crm/v4/associations/{from_type}/{to_type}/batch/read", body)
    assert answer["status"] == "COMPLETE"
    served = {
        result["from"]["id"]: sorted(link["toObjectId"] for link in result["to"])
        for result in answer["results"]
    }
    assert served == {key: value for key, value in expected.items() if key in served}
    assert set(served) == {record["id"] for record in objects[:100]} & set(expected)


def test_company_associations_are_the_reverse_of_contact_ones(hubspot_api):
    contacts = every(hubspot_api, "contacts", associations="companies")
    by_company: dict[str, list[int]] = {}
    for record in contacts:
        for link in record["associations"]["companies"]["results"]:
            by_company.setdefault(link["id"], []).append(int(record["id"]))
    body = {"inputs": [{"id": company} for company in by_company]}
    answer = hubspot_api("/crm/v4/associations/companies/contacts/batch/read", body)
    served = {
        result["from"]["id"]: sorted(link["toObjectId"] for link in result["to"])
        for result in answer["results"]
    }
    assert served == {company: sorted(ids) for company, ids in by_company.items()}


def search_all(call, object_type: str, body: dict[str, Any]) -> tuple[int, list[dict]]:
    results, after, total = [], None, None
    while True:
        page = call(f"/crm/v3/objects/{object_type}/search", {**body, "limit": 200, "after": after})
        assert total in (None, page["total"])
        total = page["total"]
        results += page["results"]
        if "paging" not in page:
            return total, results
        after = page["paging"]["next"]["after"]


def ms(timestamp: str) -> int:
    return parse_time(timestamp) * 1000 + int(timestamp[20:23])


@pytest.mark.parametrize("style", ["filterGroups", "filters"])
def test_search_by_modification_time_finds_exactly_the_later_objects(hubspot_api, style):
    contacts = every(hubspot_api, "contacts", properties="lastmodifieddate")
    times = sorted(ms(c["properties"]["lastmodifieddate"]) for c in contacts)
    cut = times[len(times) // 3]
    flt = [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(cut)}]
    body = {"filterGroups": [{"filters": flt}]} if style == "filterGroups" else {"filters": flt}
    body["sorts"] = [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
    body["properties"] = ["lastmodifieddate"]
    total, found = search_all(hubspot_api, "contacts", body)
    expected = [c for c in contacts if ms(c["properties"]["lastmodifieddate"]) >= cut]
    assert total == len(found) == len(expected)
    assert {c["id"] for c in found} == {c["id"] for c in expected}
    found_times = [ms(c["properties"]["lastmodifieddate"]) for c in found]
    assert found_times == sorted(found_times)


def test_search_operators_agree_with_a_full_read(hubspot_api):
    names = "amount,dealstage,hs_is_closed_won,closedate"
    deals = {d["id"]: d["properties"] for d in every(hubspot_api, "deals", properties=names)}
    ids = sorted(deals, key=int)
    low, high = ids[len(ids) // 4], ids[3 * len(ids) // 4]
    amounts = sorted(float(p["amount"]) for p in deals.values())
    median = amounts[len(amounts) // 2]
    cases = [
        ({"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"},
         lambda p: p["dealstage"] == "closedwon"),
        ({"propertyName": "dealstage", "operator": "NEQ", "value": "closedwon"},
         lambda p: p["dealstage"] != "closedwon"),
        ({"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "closedlost"]},
         lambda p: p["dealstage"] in ("closedwon", "closedlost")),
        ({"propertyName": "amount", "operator": "LT", "value": median},
         lambda p: float(p["amount"]) < median),
        ({"propertyName": "amount", "operator": "LTE", "value": median},
         lambda p: float(p["amount"]) <= median),
        ({"propertyName": "amount", "operator": "GT", "value": str(median)},
         lambda p: float(p["amount"]) > median),
        ({"propertyName": "hs_object_id", "operator": "BETWEEN", "value": low, "highValue": high},
         lambda p: int(low) <= int(p["hs_object_id"]) <= int(high)),
        ({"propertyName": "amount", "operator": "HAS_PROPERTY"}, lambda p: bool(p["amount"])),
    ]  # fmt: skip
    for flt, keep in cases:
        body = {"filterGroups": [{"filters": [flt]}], "properties": ["hs_object_id"]}
        _, found = search_all(hubspot_api, "deals", body)
        expected = {deal_id for deal_id, p in deals.items() if keep({**p, "hs_object_id": deal_id})}
        assert {d["id"] for d in found} == expected, flt


def test_search_or_of_groups(hubspot_api):
    groups = [
        {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": stage}]}
        for stage in ("closedwon", "closedlost")
    ]
    _, either = search_all(hubspot_api, "deals", {"filterGroups": groups})
    _, won = search_all(hubspot_api, "deals", {"filterGroups": groups[:1]})
    _, lost = search_all(hubspot_api, "deals", {"filterGroups": groups[1:]})
    assert {d["id"] for d in either} == {d["id"] for d in won} | {d["id"] for d in lost}


def test_search_limits_are_hubspots(hubspot_api):
    path = "/crm/v3/objects/contacts/search"
    error = hubspot_api(path, {"limit": 201}, expect=400)
    assert error["category"] == "VALIDATION_ERROR"
    past_cap = hubspot_api(path, {"limit": 100, "after": str(MAX_RESULTS - 50)}, expect=400)
    assert past_cap["status"] == "error" and "10000" in past_cap["message"]
    bad = {"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ"}]}]}
    assert hubspot_api(path, bad, expect=400)["category"] == "VALIDATION_ERROR"


def test_email_events_are_the_activity_of_people_in_both_systems(mailchimp, hubspot_api, truth):
    crm_emails = {c["properties"]["email"].strip().lower() for c in every(hubspot_api, "contacts")}
    expected = Counter()
    for row in truth["campaigns"]:
        for email in all_pages(
            mailchimp, f"/reports/{row['campaign_id']}/email-activity", "emails"
        ):
            if email["email_address"] in crm_emails:
                for event in email["activity"]:
                    expected[(email["email_address"], event["action"].upper(), ms_of(event))] += 1
    served, offset = Counter(), 0
    while True:
        page = hubspot_api("/email/public/v1/events", limit=1000, offset=offset)
        served.update((e["recipient"], e["type"], e["created"]) for e in page["events"])
        offset = int(page["offset"])
        if not page["hasMore"]:
            break
    assert served == expected
    times = sorted(created for _, _, created in served)
    start, end = times[len(times) // 4], times[len(times) // 2]
    window = hubspot_api(
        "/email/public/v1/events", startTimestamp=start, endTimestamp=end, limit=1000
    )
    assert len(window["events"]) == sum(1 for t in times if start <= t < end)


def ms_of(event: dict[str, Any]) -> int:
    return parse_time(event["timestamp"]) * 1000


def test_hubspot_404s_are_hubspot_errors(hubspot_api):
    assert hubspot_api("/crm/v3/pipelines/widgets", expect=404)["category"] == "OBJECT_NOT_FOUND"
    assert hubspot_api("/email/public/v1/nothing", expect=404)["status"] == "error"
    assert hubspot_api("/crm/v3/objects/tickets/1", expect=404)["category"] == "OBJECT_NOT_FOUND"


def test_what_the_portal_does_not_use_answers_empty_in_hubspots_envelopes(hubspot_api):
    """As the real API answers a portal without tickets, forms, workflows or custom objects."""
    assert hubspot_api("/crm/v3/schemas") == {"results": []}
    assert hubspot_api("/crm/v3/pipelines/tickets") == {"results": []}
    for object_type in ("tickets", "line_items", "0-7", "calls", "deal_split"):
        assert hubspot_api(f"/crm/v3/objects/{object_type}") == {"results": []}
        found = hubspot_api(f"/crm/v3/objects/{object_type}/search", {"limit": 10})
        assert found == {"total": 0, "results": []}
        names = {p["name"] for p in hubspot_api(f"/properties/v2/{object_type}/properties")}
        assert {"hs_object_id", "hs_lastmodifieddate"} <= names
    assert hubspot_api("/automation/v3/workflows") == {"workflows": []}
    assert hubspot_api("/marketing/v3/forms") == {"results": []}
    assert hubspot_api("/crm/v3/lists/search", {"count": 10})["lists"] == []
    assert hubspot_api("/crm/v3/owners", archived="true") == {"results": []}
    # A pair HubSpot defines that the world never links: no associations, not an error.
    linked = hubspot_api("/crm/v4/associations/contact/contacts/batch/read", {"inputs": []})
    assert linked == {"status": "COMPLETE", "results": []}


def test_the_legacy_contacts_list_pages_through_every_contact(hubspot_api, truth):
    vids, offset = [], 0
    while True:
        page = hubspot_api("/contacts/v1/lists/all/contacts/all", count=37, vidOffset=offset)
        vids += [contact["vid"] for contact in page["contacts"]]
        assert all(contact["list-memberships"] == [] for contact in page["contacts"])
        offset = page["vid-offset"]
        if not page["has-more"]:
            break
    assert (
        len(vids)
        == len(set(vids))
        == truth["counts"]["contacts"]
        - sum(truth["dirty"]["contacts"].get(key, 0) for key in ("duplicate_person",))
    )
    v1 = hubspot_api("/crm-pipelines/v1/pipelines/deals")["results"]
    v3 = hubspot_api("/crm/v3/pipelines/deals")["results"]
    assert [p["pipelineId"] for p in v1] == [p["id"] for p in v3]
    assert [s["stageId"] for s in v1[0]["stages"]] == [s["id"] for s in v3[0]["stages"]]


def test_search_returns_the_asked_properties_and_the_always_returned_ones(hubspot_api):
    page = hubspot_api("/crm/v3/objects/contacts/search", {"properties": ["email"], "limit": 3})
    expected = {"email", *hubspot.ALWAYS_RETURNED["contacts"]}
    assert all(set(result["properties"]) == expected for result in page["results"])


def test_every_stream_served_is_counted_in_the_truth(mailchimp, hubspot_api, truth):
    counts, keys = truth["counts"], truth["keys"]
    lists = keys["lists"]
    served = {
        "reports": len(all_pages(mailchimp, "/reports", "reports")),
        "unsubscribes": sum(
            mailchimp(f"/reports/{c}/unsubscribed")["total_items"] for c in keys["reports"]
        ),
        "segments": sum(mailchimp(f"/lists/{i}/segments")["total_items"] for i in lists),
        "tags": sum(mailchimp(f"/lists/{i}/tag-search")["total_items"] for i in lists),
        "owners": len(hubspot_api("/crm/v3/owners")["results"]),
        "deal_pipelines": len(hubspot_api("/crm/v3/pipelines/deals")["results"]),
    }
    assert served == {stream: counts[stream] for stream in served}
    assert all(len(keys[stream]) == counts[stream] for stream in served)
