"""The reliability suite (testbench/chaos/) at a small scale; ``make chaos`` runs it whole.

One private mock server; for each scenario of ``testbench.chaos.scenarios.SMALL_RUN`` a sync under
that fault into a fresh DuckDB file, with real connector processes; then ``kill -9`` of a sync at 10
seeded random points, resumed each time; two writers of one warehouse at once; and, over every
output of all that, the secret search and the loopback check.

Not here (minutes each): the pipeline scenarios (the same Airflow logical date twice, kill -9 of
the transform job, of `pipeline transform` alone and of the lake's job, a transform meeting another
writer; tests/test_processes.py covers the last two's product side). ``make test`` relies on
tests/test_pipeline_end_to_end.py for the first: it runs the whole pipeline twice through Airflow
and compares the marts.
"""

import pytest
from rich.console import Console

from testbench.chaos import table
from testbench.chaos.runner import run_sync_scenarios
from testbench.chaos.scenarios import SMALL_RUN

SEED, SCALE, KILLS = 7, 60, 10
# Each sync pays seconds of connector start-up whatever the scale; on a busy machine the module
# takes longer than pytest's default limit.
pytestmark = pytest.mark.timeout(2400)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    found = run_sync_scenarios(
        SEED, SCALE, KILLS, workdir=tmp_path_factory.mktemp("chaos"), small=True
    )
    table.render(found, Console(width=160, force_terminal=False))  # shown with -s or on failure
    return {outcome.name: outcome for outcome in found}


@pytest.mark.parametrize("name", sorted(SMALL_RUN))
def test_a_fault_is_survived_or_fails_loud_then_converges(outcomes, name):
    outcome = outcomes[name]
    assert outcome.ok, outcome
    assert (outcome.lost, outcome.duplicates, outcome.secrets) == (0, 0, 0), outcome


def test_kill9_at_ten_points_then_resume_loses_nothing(outcomes):
    outcome = outcomes["kill9_resume"]
    assert outcome.status == "survived", outcome
    assert (outcome.lost, outcome.duplicates) == (0, 0), outcome


def test_a_second_writer_gets_an_explained_error(outcomes):
    outcome = outcomes["second_writer"]
    assert outcome.status == "failed-loud", outcome
    assert "open for writing by another process" in outcome.detail, outcome


def test_no_secret_in_any_output_and_loopback_only(outcomes):
    assert outcomes["secrets_in_outputs"].status == "survived", outcomes["secrets_in_outputs"]
    assert outcomes["loopback_only"].status == "survived", outcomes["loopback_only"]
    assert sum(o.secrets for o in outcomes.values()) == 0


# A broken answer is a typed error from the connector itself: an Airbyte TRACE error message with
# a failure_type and a message a person can read, never a stream that ends as if complete.
BROKEN = {
    "html_page:start=1:count=1": ("system_error", "the body is not JSON"),
    "unauthorized:start=1:count=1": ("config_error", "401"),
    "repeat_page:rate=1": ("transient_error", "repeated 1 record(s) of the previous page"),
}


@pytest.fixture(scope="module")
def chaos_server():
    from conftest import running_mock_api

    with running_mock_api(7, 60) as api:
        yield api


@pytest.fixture(scope="module")
def lists_catalog(chaos_server):
    """The configured catalog of the one stream read, discovered in-process (no chaos yet)."""
    import logging

    from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteCatalogSerializer
    from source_mailchimp import SourceMailchimp

    from pipeline import sync

    config = {"apikey": chaos_server.mailchimp_api_key, "base_url": chaos_server.mailchimp_base_url}
    catalog = SourceMailchimp().discover(logging.getLogger("airbyte"), config)
    return sync.configure_catalog(AirbyteCatalogSerializer.dump(catalog), ["lists"])


@pytest.mark.parametrize("scenario", sorted(BROKEN))
def test_a_broken_answer_is_a_typed_readable_connector_error(
    chaos_server, lists_catalog, scenario, tmp_path
):
    import subprocess

    import orjson
    import requests

    from pipeline import sync

    config = {"apikey": chaos_server.mailchimp_api_key, "base_url": chaos_server.mailchimp_base_url}
    config["page_size"] = 1  # one audience per page: the second page can repeat the first
    catalog = lists_catalog
    (tmp_path / "config.json").write_bytes(orjson.dumps(config))
    (tmp_path / "catalog.json").write_bytes(orjson.dumps(catalog))
    requests.post(f"{chaos_server.url}/_mock/faults", json={"scenarios": [scenario]}, timeout=30)
    try:
        command = sync.connector_command("source-mailchimp") + ["read", "--config"]
        command += [str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")]
        done = subprocess.run(command, capture_output=True, timeout=300)
    finally:
        requests.delete(f"{chaos_server.url}/_mock/faults", timeout=30)
    messages = [orjson.loads(line) for line in done.stdout.splitlines() if line.startswith(b"{")]
    errors = [
        m["trace"]["error"] for m in messages if m["type"] == "TRACE" and "error" in m["trace"]
    ]
    statuses = [
        m["trace"]["stream_status"]["status"]
        for m in messages
        if m["type"] == "TRACE" and "stream_status" in m["trace"]
    ]
    failure_type, words = BROKEN[scenario]
    assert done.returncode != 0
    assert errors, done.stdout[-2000:]
    assert errors[0]["failure_type"] == failure_type, errors[0]
    assert words in errors[0]["message"], errors[0]["message"]
    assert "COMPLETE" not in statuses, "a broken stream must never end as complete"
    assert chaos_server.mailchimp_api_key.encode() not in done.stdout + done.stderr


def test_the_total_counts_every_seed_and_a_whole_run_replaces_its_block_in_the_docs(tmp_path):
    from testbench.chaos.runner import Outcome

    runs = {
        11: ([Outcome("outage", "survived"), Outcome("kill9_dbt", "FAILED", detail="x")], 60.0),
        12: ([Outcome("outage", "failed-loud", lost=2)], 30.0),
    }
    total = table.render_total(runs, Console(width=160, force_terminal=False))
    assert (total["tried"], total["failed"], total["lost"]) == (3, 1, 2)
    docs = tmp_path / "reliability.md"
    docs.write_text(
        f"# Reliability\n\nkept\n\n{table.DOCS_BEGIN}\nstale block\n{table.DOCS_END}\ntail\n"
    )
    for _ in range(2):  # a second run replaces the block, it does not add one
        table.write_docs(docs, table.markdown(runs, "python -m testbench.chaos", "now", 95.0))
    page = docs.read_text()
    assert page.count(table.DOCS_BEGIN) == 1 and "stale block" not in page
    assert page.startswith("# Reliability\n\nkept\n") and page.endswith("tail\n")
    assert "| **total** | **3** | **1** | **1** | **1** | **2** | **0** | **0** |" in page
    assert "seed 11, `kill9_dbt`: x" in page
    assert "| `kill9_dbt` | kill -9 of the transform job" in page  # its promise, in one line
