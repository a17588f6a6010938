"""What the suite tries, one line each.

An *API scenario* turns on one of the mock's fault scenarios (mock_apis/faults.py) during a sync of
both sources into a fresh warehouse. It passes when the warehouse then equals the mock's truth
(*survived*), or when the sync failed with a typed, readable error and the next clean sync
converged to the truth (*failed loud*). Anything else, and any key lost or doubled, is a failure.

The *crash scenarios* kill processes (``kill -9``) or run two writers at once; the *pipeline
scenarios* (full runs only: they take minutes) run the whole pipeline through Airflow.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiScenario:
    name: str
    faults: tuple[str, ...]  # the mock's fault scenarios, as `mock-apis faults` takes them
    what: str
    sources: tuple[str, ...] = ("mailchimp", "hubspot")


# Rates are per API request. The syncs read small pages (see runner.PAGE_SIZE), so even a small
# world makes a few hundred requests and every scenario strikes several times.
API_SCENARIOS: tuple[ApiScenario, ...] = (
    ApiScenario("rate_limit", ("rate_limit:rate=0.03",), "429 with Retry-After: waited, retried"),
    ApiScenario(
        "rate_limit_no_retry_after",
        ("rate_limit_no_retry_after:rate=0.03",),
        "429 without Retry-After: exponential backoff",
    ),
    ApiScenario("server_error", ("server_error:rate=0.05",), "500s: retried"),
    ApiScenario("bad_gateway", ("bad_gateway:rate=0.05",), "502s: retried"),
    ApiScenario("unavailable", ("unavailable:rate=0.05",), "503s: retried"),
    ApiScenario(
        "outage", ("outage:start=6:count=4",), "4 requests in a row get 503, then recovery"
    ),
    ApiScenario(
        "long_outage",
        ("outage:start=6:count=8",),
        "an outage longer than the retries: the sync must fail, not end early",
        ("mailchimp",),
    ),
    ApiScenario("hang", ("hang:start=5:count=1:seconds=8",), "no answer past the read timeout"),
    ApiScenario("reset", ("reset:rate=0.03",), "connection closed mid-body"),
    ApiScenario("truncated_json", ("truncated_json:start=7:count=1",), "200 with half a JSON"),
    ApiScenario("html_page", ("html_page:start=7:count=1",), "200 with an HTML page"),
    ApiScenario("empty_body", ("empty_body:start=7:count=1",), "200 with an empty body"),
    ApiScenario("unauthorized", ("unauthorized:start=7:count=1",), "401: credential revoked"),
    ApiScenario("repeat_page", ("repeat_page:rate=0.2",), "a page repeats the previous page"),
    ApiScenario("drift_add", ("drift_add",), "schema drift: a field added"),
    ApiScenario("drift_remove", ("drift_remove",), "schema drift: a field removed"),
    ApiScenario("drift_rename", ("drift_rename",), "schema drift: a field renamed"),
    ApiScenario("drift_retype", ("drift_retype",), "schema drift: a field retyped"),
    ApiScenario("null_key", ("null_key:rate=0.1",), "a record with a null primary key"),
    ApiScenario("missing_key", ("missing_key:rate=0.1",), "a record without its primary key"),
    ApiScenario("bad_date", ("bad_date:rate=0.1",), "a record with a malformed date"),
    ApiScenario("wrong_type", ("wrong_type:rate=0.1",), "a record with a field of the wrong type"),
    ApiScenario("hostile_names", ("hostile_names:rate=0.1",), "fields with hostile names"),
    ApiScenario(
        "everything_transient",
        (
            "server_error:rate=0.02",
            "reset:rate=0.02",
            "rate_limit_no_retry_after:rate=0.02",
            "drift_add",
        ),
        "several transient faults at once, with drift",
    ),
)

# The small run inside `make test` (a few minutes on two cores): a retried fault, a broken 200,
# a repeated page and a bad record, each on one source (a sync costs seconds of connector
# start-up whatever the scale; tests/test_chaos.py also checks the connectors' typed errors).
SMALL_RUN: dict[str, tuple[str, ...]] = {
    "outage": ("mailchimp",),
    "html_page": ("hubspot",),
    "repeat_page": ("mailchimp",),
    "null_key": ("mailchimp",),
}

CRASH_SCENARIOS = {
    "kill9_resume": "kill -9 of a sync at N seeded random points, resumed each time",
    "second_writer": "a sync meets another process holding the warehouse open for writing",
}

PIPELINE_SCENARIOS = {
    "airflow_same_date_twice": "the same Airflow logical date run twice: identical marts and lake",
    "kill9_dbt": "kill -9 of the transform job mid-dbt: old marts intact, the next run proceeds",
    "kill9_transform_cli": "kill -9 of `pipeline transform` alone: its dbt goes with it",
    "transform_meets_writer": "a transform meets another writer: one line names its PID, no wait",
    "kill9_lake_publish": "kill -9 of the Spark lake job: the previous lake version intact",
    "secrets_everywhere": "every secret searched for in every output of the pipeline runs",
    "loopback_only_pipeline": "every server the pipeline starts listens on loopback only",
}

CHECKS = {
    "loopback_only": "the mock server listens on loopback only",
    "secrets_in_outputs": "no secret in any log line, error, warehouse or state file",
}


def promise(name: str) -> str:
    """What a scenario promises, in one line (the table shows it)."""
    for scenario in API_SCENARIOS:
        if scenario.name == name:
            return scenario.what
    return {**CRASH_SCENARIOS, **PIPELINE_SCENARIOS, **CHECKS}.get(name, "")
