"""The mock's limits over real HTTP, on a private server with small budgets: HubSpot's rolling
10-second budget and its search rate (429s, headers), and MailChimp's 10 simultaneous requests."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import MockApi, running_mock_api

from testbench.mock_apis.server import MAILCHIMP_MAX_CONNECTIONS

TIMEOUT = (5, 120)
BURST, SEARCH_RATE = 20, 2
# Big enough for pages of 1,000 members, which keep the server busy for a while.
SCALE = 5_000


@pytest.fixture(scope="module")
def api() -> Iterator[MockApi]:
    options = ("--hubspot-burst", str(BURST), "--hubspot-search-rate", str(SEARCH_RATE))
    with running_mock_api(3, SCALE, *options) as server:
        yield server


def hubspot_request(api: MockApi, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(
        "POST" if body is not None else "GET",
        f"{api.hubspot_base_url}{path}",
        json=body,
        headers=api.hubspot_headers,
        timeout=TIMEOUT,
    )


def test_hubspot_search_has_its_own_per_second_limit(api):
    """First in this module, while the 10-second budget is still whole."""
    body = {"limit": 1, "filterGroups": []}
    barrier = threading.Barrier(SEARCH_RATE + 2)

    def search(_: int) -> requests.Response:
        barrier.wait()
        return hubspot_request(api, "/crm/v3/objects/companies/search", body)

    with ThreadPoolExecutor(SEARCH_RATE + 2) as pool:
        answers = list(pool.map(search, range(SEARCH_RATE + 2)))
    refused = [r for r in answers if r.status_code == 429]
    assert refused and len(answers) - len(refused) >= 1
    for response in refused:
        body = response.json()
        assert (body["policyName"], body["errorType"]) == ("SECONDLY", "RATE_LIMIT")
        assert body["message"] == "You have reached your secondly limit."
        assert "Retry-After" not in response.headers  # HubSpot does not always send it


def test_hubspot_counts_down_its_ten_second_budget_then_answers_429(api):
    answers = [hubspot_request(api, "/crm/v3/owners") for _ in range(BURST + 1)]
    refused = [r for r in answers if r.status_code == 429]
    assert refused, "at most BURST requests pass in ten seconds"
    allowed = answers[: answers.index(refused[0])]
    remaining = [int(r.headers["X-HubSpot-RateLimit-Remaining"]) for r in allowed]
    assert remaining == list(range(remaining[0], -1, -1)), "counts down to 0, then refuses"
    for response in answers:
        assert response.headers["X-HubSpot-RateLimit-Max"] == str(BURST)
        assert response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        for name in ("Daily", "Daily-Remaining", "Secondly", "Secondly-Remaining"):
            assert int(response.headers[f"X-HubSpot-RateLimit-{name}"]) >= 0
    body = refused[0].json()
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert (body["status"], body["errorType"]) == ("error", "RATE_LIMIT")
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["correlationId"]
    assert 1 <= int(refused[0].headers["Retry-After"]) <= 10


def mailchimp_burst(api: MockApi, parallel: int) -> list[requests.Response]:
    """``parallel`` slow MailChimp requests (pages of 1,000 members) released at once."""
    auth = api.mailchimp_auth
    lists = requests.get(f"{api.mailchimp_base_url}/lists", auth=auth, timeout=TIMEOUT).json()
    list_id = lists["lists"][0]["id"]
    barrier = threading.Barrier(parallel)

    def fetch(_: int) -> requests.Response:
        barrier.wait()
        return requests.get(
            f"{api.mailchimp_base_url}/lists/{list_id}/members",
            params={"count": 1000},
            auth=auth,
            timeout=TIMEOUT,
        )

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(fetch, range(parallel)))


def test_mailchimp_answers_10_simultaneous_requests(api):
    answers = mailchimp_burst(api, MAILCHIMP_MAX_CONNECTIONS)
    assert [r.status_code for r in answers] == [200] * MAILCHIMP_MAX_CONNECTIONS


def test_mailchimp_refuses_more_than_10_simultaneous_requests(api):
    # Forty requests released at once overlap on a quiet machine; on a loaded one the client's
    # threads may reach the server one after another, so a few bursts are allowed (bounded).
    for _ in range(5):
        answers = mailchimp_burst(api, 4 * MAILCHIMP_MAX_CONNECTIONS)
        refused = [r for r in answers if r.status_code == 429]
        assert len(answers) - len(refused) >= MAILCHIMP_MAX_CONNECTIONS
        if refused:
            break
    assert refused, "the 11th simultaneous request is refused"
    for response in refused:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"] == "Too Many Requests"
