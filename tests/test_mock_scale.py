"""A million people, served: late pages cost what a page costs, not what the world holds, and a
campaign's report summary is computed for that campaign only, when first asked for.

No timing asserts: the test is that these requests complete and agree with each other.
"""

from collections.abc import Iterator

import pytest
import requests
from conftest import MockApi, running_mock_api

from testbench.mock_apis import layout
from testbench.mock_apis.world import CONTACT_ID_BASE

TIMEOUT = (5, 120)
SCALE = 1_000_000


@pytest.fixture(scope="module")
def api() -> Iterator[MockApi]:
    with running_mock_api(3, SCALE) as server:
        yield server


def test_the_last_page_of_a_large_audience(api):
    list_id = api.mailchimp("/lists", fields="lists.id")["lists"][-1]["id"]
    total = api.mailchimp(f"/lists/{list_id}/members", count=1, fields="total_items")
    assert total["total_items"] > 250_000
    page = api.mailchimp(
        f"/lists/{list_id}/members", count=1000, offset=total["total_items"] - 1000
    )
    assert len(page["members"]) == 1000
    assert page["members"][-1]["timestamp_opt"] < "2026-06-01"


def test_the_last_page_of_the_largest_campaigns_activity(api):
    campaigns = api.mailchimp(
        "/campaigns", status="sent", count=1000, exclude_fields="campaigns.report_summary"
    )["campaigns"]
    largest = max(campaigns, key=lambda campaign: campaign["emails_sent"])
    assert largest["emails_sent"] > 200_000
    path = f"/reports/{largest['id']}/email-activity"
    page = api.mailchimp(path, count=1000, offset=largest["emails_sent"] - 1000)
    assert len(page["emails"]) == 1000 and page["total_items"] == largest["emails_sent"]


def test_a_report_summary_is_computed_for_its_campaign_only(api):
    (first,) = api.mailchimp("/campaigns", status="sent", count=1)["campaigns"]
    summary = first["report_summary"]
    emails = []
    while len(emails) < first["emails_sent"]:
        page = api.mailchimp(
            f"/reports/{first['id']}/email-activity", count=1000, offset=len(emails)
        )
        emails += page["emails"]
    events = [event for email in emails for event in email["activity"]]
    assert summary["opens"] == sum(event["action"] == "open" for event in events)
    assert summary["clicks"] == sum(event["action"] == "click" for event in events)


def test_the_last_contact(api):
    last = CONTACT_ID_BASE + layout.hubspot_count(SCALE) - 1
    response = requests.get(
        f"{api.hubspot_base_url}/crm/v3/objects/contacts/{last}",
        headers=api.hubspot_headers,
        timeout=TIMEOUT,
    )
    assert response.status_code == 200 and response.json()["id"] == str(last)
