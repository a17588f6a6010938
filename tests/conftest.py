"""Shared fixtures, and the tier of every test module.

``mock_api`` runs the real ``mock-apis`` console script, as the pipeline does, on a free loopback
port (testbench/support.py starts it) with a small world and test-only credentials, so that a test
can also check that no credential leaks anywhere.

The suite runs in three tiers, each a pytest marker given here, by module, in ``TIERS`` (a test may
carry another tier's marker itself, which then wins):

* ``fast``: pure functions, the mock's endpoints, the connectors against the mock or recorded
  answers, one-process checks of layout and configuration; the whole tier in under 90 s
  (``make test-fast``), to run after every change;
* ``integration``: real parts working together, each start costing seconds: connector processes
  piped into DuckDB, dbt builds, Spark jobs, Great Expectations, the CLI, the Airflow DAG;
* ``e2e``: the whole pipeline through Airflow, the playbook as written, the benchmark's and the
  chaos suite's small runs: minutes each.

``make test`` runs them all (``make test-integration``, ``make test-e2e`` one tier each).
"""

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from pipeline.config import (
    DEV_GOOGLE_CLIENT_ID,
    DEV_GOOGLE_CLIENT_SECRET,
    DEV_GOOGLE_REFRESH_TOKEN,
    DEV_GOOGLE_SPREADSHEET_ID,
)
from testbench.support import running_mock_apis

MOCK_SEED = 7
MOCK_SCALE = 300
# Deliberately unlike the development defaults: a test that finds them in some output found a leak.
TEST_MAILCHIMP_API_KEY = "testonly5e3c9a7f0b1d2e4f6a8c0e1f2a3b4c5d-us6"
TEST_HUBSPOT_TOKEN = "pat-na1-testonly-5e3c-9a7f-0b1d-2e4f6a8c0e1f"
REQUEST_TIMEOUT = (5, 60)


@dataclass(frozen=True)
class MockApi:
    """A running mock server and what a client needs to talk to it."""

    url: str
    mailchimp_api_key: str
    hubspot_token: str
    seed: int
    scale: int

    @property
    def mailchimp_base_url(self) -> str:
        return f"{self.url}/3.0"

    @property
    def hubspot_base_url(self) -> str:
        return self.url

    @property
    def mailchimp_auth(self) -> tuple[str, str]:
        """MailChimp's Basic auth: any user name, the API key as the password."""
        return ("anystring", self.mailchimp_api_key)

    @property
    def hubspot_headers(self) -> dict[str, str]:
        """HubSpot's private-app auth: the token as a Bearer."""
        return {"Authorization": f"Bearer {self.hubspot_token}"}

    def mailchimp(self, path: str, expect: int = 200, **params: Any) -> Any:
        """GET ``/3.0<path>`` as a MailChimp client would; the JSON body, once the status is
        ``expect``."""
        return _json(
            requests.get(
                f"{self.mailchimp_base_url}{path}",
                params=params,
                auth=self.mailchimp_auth,
                timeout=REQUEST_TIMEOUT,
            ),
            expect,
        )

    def hubspot(self, path: str, body: Any = None, expect: int = 200, **params: Any) -> Any:
        """GET ``<path>`` (POST ``body`` when there is one) as a HubSpot client would; the JSON
        body, once the status is ``expect``."""
        return _json(
            requests.request(
                "GET" if body is None else "POST",
                f"{self.hubspot_base_url}{path}",
                params=params,
                json=body,
                headers=self.hubspot_headers,
                timeout=REQUEST_TIMEOUT,
            ),
            expect,
        )

    @property
    def google_token_uri(self) -> str:
        return f"{self.url}/token"

    def google_service_account(self) -> str:
        """The key file (JSON text) of the mock's service account, made when the server started."""
        response = requests.get(f"{self.url}/_mock/google/service-account.json", timeout=(5, 30))
        response.raise_for_status()
        return response.text

    def google_sheets_config(self, service_account: bool = True) -> dict[str, Any]:
        """A source-google-sheets config for the mock's spreadsheet."""
        if service_account:
            credentials = {
                "auth_type": "Service",
                "service_account_info": self.google_service_account(),
            }
        else:
            credentials = {
                "auth_type": "Client",
                "client_id": DEV_GOOGLE_CLIENT_ID,
                "client_secret": DEV_GOOGLE_CLIENT_SECRET,
                "refresh_token": DEV_GOOGLE_REFRESH_TOKEN,
            }
        return {
            "spreadsheet_id": DEV_GOOGLE_SPREADSHEET_ID,
            "credentials": credentials,
            "base_url": self.url,
            "token_uri": self.google_token_uri,
            "names_conversion": True,
        }

    def truth(self, keys: bool = False, attribution_window_days: int = 30) -> dict[str, Any]:
        """The ground truth of the served world (``keys=True`` adds every stream's primary keys)."""
        response = requests.get(
            f"{self.url}/_mock/truth",
            params={"keys": str(keys).lower(), "attribution_window_days": attribution_window_days},
            timeout=(5, 120),
        )
        response.raise_for_status()
        return response.json()

    def clock(self) -> dict[str, Any]:
        """The simulated now: ``{seed, scale, days_advanced, now}``."""
        response = requests.get(f"{self.url}/_mock/clock", timeout=(5, 30))
        response.raise_for_status()
        return response.json()

    def advance(self, days: int) -> dict[str, Any]:
        """Move the server's simulated now forward; returns the new clock.

        Never on the shared session ``mock_api``: other tests expect its world to stay put. Start
        a private server with ``mock_api_server`` instead.
        """
        response = requests.post(
            f"{self.url}/_mock/advance", params={"days": days}, timeout=(5, 120)
        )
        response.raise_for_status()
        return response.json()


def _json(response: requests.Response, expect: int) -> Any:
    assert response.status_code == expect, f"{response.url}: {response.status_code} {response.text}"
    return response.json()


@contextmanager
def running_mock_api(
    seed: int = MOCK_SEED, scale: int = MOCK_SCALE, *options: str
) -> Iterator[MockApi]:
    """A private ``mock-apis serve`` with extra command-line ``options``, stopped on exit."""
    credentials = (TEST_MAILCHIMP_API_KEY, TEST_HUBSPOT_TOKEN)
    world = ("--seed", str(seed), "--scale", str(scale))
    with running_mock_apis(*world, *options, credentials=credentials) as (url, _):
        yield MockApi(url, *credentials, seed=seed, scale=scale)


# The shared server answers many test files at once, so its HubSpot budgets are wider than
# HubSpot's (tests of the limits start a private server), and its data is clean: the tests that
# use it compare against clean expectations (tests of dirty data start a private server).
SHARED_SERVER_OPTIONS = (
    *("--hubspot-burst", "100000", "--hubspot-search-rate", "1000"),
    *("--google-read-quota", "100000"),
    *("--dirty-rate", "0"),
)


@pytest.fixture(scope="session")
def mock_api() -> Iterator[MockApi]:
    """The shared server: never advance it (see ``MockApi.advance``)."""
    with running_mock_api(MOCK_SEED, MOCK_SCALE, *SHARED_SERVER_OPTIONS) as api:
        yield api


@pytest.fixture
def mock_api_server() -> Callable[..., AbstractContextManager[MockApi]]:
    """A private server: ``with mock_api_server(seed, scale, "--dirty-rate", "0") as api``."""
    return running_mock_api


# The tier of each module (tests/<module>.py), or of one test ("<module>::<test>") where it differs
# from its module's. A module missing here is "integration": never in the fast tier by accident,
# never left out of `make test`.
TIERS = {
    "fast": (
        "test_compose",
        "test_topology",
        "test_connector_public_api",
        "test_destination_duckdb",
        "test_destination_lake",
        "test_lake_schemas",
        "test_lake_time_travel",
        "test_layout",
        "test_listeners",
        "test_mock_apis",
        "test_mock_clock",
        "test_mock_dirty",
        "test_mock_endpoints",
        "test_mock_faults",
        "test_mock_google_sheets",
        "test_mock_limits",
        "test_mock_scale",
        "test_orchestrator",
        "test_secrets",
        "test_snapshot",
        "test_source_hubspot",
        "test_source_mailchimp",
        "test_source_google_sheets",
        "test_sync_discover_cache",
        "test_bench_report",
    ),
    # Longest first (see pytest_collection_modifyitems).
    "integration": (
        # Clients we did not write, each in its own environment (synced once into its .venv).
        "test_official_connectors",
        "test_sqlfluff",
        "test_sync_incremental",
        "test_quality",
        "test_spark_gold",
        "test_dbt_project",
        "test_spark_jobs",
        "test_cli",
        "test_processes",
        "test_cluster_runner",
        "test_dag",
        "test_destination_duckdb::test_source_mailchimp_piped_into_destination_duckdb",
        "test_destination_lake::test_source_mailchimp_piped_into_destination_lake",
        "test_connector_runtime",
        "test_connector_standard_suites",
    ),
    # Longest first (see pytest_collection_modifyitems).
    "e2e": (
        # The production topology (PostgreSQL, Airflow, a Spark cluster): a run with faults.
        "test_cluster",
        "test_pipeline_end_to_end",
        "test_playbook",
        "test_chaos",
        "test_bench",
    ),
}
TIER_OF = {name: tier for tier, names in TIERS.items() for name in names}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            module = item.module.__name__
            test = f"{module}::{getattr(item, 'originalname', item.name)}"
            item.add_marker(TIER_OF.get(test) or TIER_OF.get(module, "integration"))
    # Alone, the suite runs tier by tier, so that a broken fast test shows first. Spread over
    # workers (`make test` runs `pytest -n 2`), the longest start first: one worker takes the
    # end-to-end pipeline module while the other goes through the rest. Within a tier, modules run
    # in the order TIERS lists them.
    if "PYTEST_XDIST_WORKER" in os.environ:
        order = ("e2e", "integration", "fast")
    else:
        order = ("fast", "integration", "e2e")
    items.sort(key=lambda item: (order.index(_tier(item)), _listed(item)))


def _tier(item: pytest.Item) -> str:
    return next(tier for tier in TIERS if item.get_closest_marker(tier))


LISTED = {name: position for names in TIERS.values() for position, name in enumerate(names)}


def _listed(item: pytest.Item) -> int:
    return LISTED.get(item.module.__name__, len(LISTED))
