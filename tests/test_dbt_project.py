"""The dbt project, run for real: `dbt build` on the hand-written fixture of tests/dbt_fixtures.py.

The expected mart below is worked out by hand from the fixture's rows (see its docstring for the
story), so a change in the SQL that changes a number fails here with the number that moved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dbt_fixtures import write_dev_fixture

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# The dbt of the environment running the tests (what `uv run dbt` runs), without needing uv on PATH.
DBT = Path(sys.executable).with_name("dbt")

COLUMNS = (
    "campaign_id, recipients, opens, unique_opens, clicks, unique_clicks, bounces, "
    "unique_open_rate, unique_click_rate, won_deals, won_revenue"
)

# One row per sent campaign (c4 is a draft: no row), in COLUMNS order.
EXPECTED_CAMPAIGN_PERFORMANCE = {
    # opens: Ada 2 + Bob 1 + Cyd 1; clicks: Ada 2 + Bob 2 + Cyd 1; Dee's hard bounce.
    # Won deals: d1 (4 days after Ada's first click) and d2 (exactly 30 days after it: the boundary
    # counts). Not d3 (1 ms past 30 days after Bob's FIRST click), not d4 (lost).
    "c1": ("c1", 4, 4, 3, 5, 3, 1, 3 / 4, 3 / 4, 2, Decimal("3000.50")),
    # Ada opens and clicks, Bob opens, Dee soft-bounces. d2 was created 16 days after Ada's c2 click
    # and counts here too (multi-touch); d1 was created before it.
    "c2": ("c2", 4, 2, 2, 1, 1, 1, 2 / 4, 1 / 4, 1, Decimal("2000.00")),
    # Sent to nobody, no events: a row of zeros, rates 0 rather than a division by zero.
    "c3": ("c3", 0, 0, 0, 0, 0, 0, 0.0, 0.0, 0, Decimal("0.00")),
}


def run_dbt(*args: str, env: dict[str, str], workdir: Path) -> None:
    """Run a dbt command on the project from the repository root, as the pipeline does.

    target/ and logs/ go to ``workdir`` so that tests never touch the dbt_project/target of a person
    working in the same tree.
    """
    command = [
        str(DBT),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    result = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "DBT_TARGET_PATH": str(workdir / "target"),
            "DBT_LOG_PATH": str(workdir / "logs"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"


def dbt_env(warehouse: Path, lake: Path, window_days: int = 30) -> dict[str, str]:
    return {
        "WAREHOUSE_PATH": str(warehouse),
        "LAKE_ROOT": str(lake),
        "ATTRIBUTION_WINDOW_DAYS": str(window_days),
    }


def campaign_performance(warehouse: Path) -> dict[str, tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"select {COLUMNS} from marts.campaign_performance").fetchall()
    return {row[0]: row for row in rows}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The fixture world, with `dbt build` (models, data tests, unit tests) run on it once."""
    workdir = tmp_path_factory.mktemp("dbt")
    warehouse, lake = workdir / "warehouse.duckdb", workdir / "lake"
    write_dev_fixture(warehouse, lake)
    run_dbt("build", env=dbt_env(warehouse, lake), workdir=workdir)
    run_results = json.loads((workdir / "target" / "run_results.json").read_text())
    return {"warehouse": warehouse, "lake": lake, "run_results": run_results}


@pytest.fixture(scope="module")
def docs(built: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dbt docs generate` on the built warehouse, with a 10-day window; returns its target/.

    The window differs from the build's so the compiled SQL shows that ATTRIBUTION_WINDOW_DAYS
    reaches the attribution model, without paying for a second build.
    """
    workdir = tmp_path_factory.mktemp("dbt-docs")
    env = dbt_env(built["warehouse"], built["lake"], window_days=10)
    run_dbt("docs", "generate", env=env, workdir=workdir)
    return workdir / "target"


def test_build_runs_models_data_tests_and_unit_tests(built: dict) -> None:
    statuses = {result["unique_id"]: result["status"] for result in built["run_results"]["results"]}
    # An exposure is only declared, so dbt reports it as a no-op; everything else must succeed.
    built_nodes = {node: status for node, status in statuses.items() if status != "no-op"}
    assert set(built_nodes.values()) <= {"success", "pass"}
    assert {node for node in statuses if node not in built_nodes} == {
        "exposure.campaign_pipeline.mart_quality_checks"
    }
    kinds = {unique_id.split(".")[0] for unique_id in built_nodes}
    assert kinds == {"model", "test", "unit_test"}


def test_campaign_performance_matches_hand_computed_values(built: dict) -> None:
    assert campaign_performance(built["warehouse"]) == EXPECTED_CAMPAIGN_PERFORMANCE


def test_campaign_performance_keeps_campaign_attributes(built: dict) -> None:
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        row = con.execute(
            "select campaign_title, subject_line, audience_id, sent_at"
            " from marts.campaign_performance where campaign_id = 'c1'"
        ).fetchone()
    assert row[:3] == ("March newsletter", "Spring is here", "aud1")
    assert row[3].isoformat() == "2024-03-01T09:00:00"  # UTC, without a zone


def test_people_are_unified_on_the_normalized_email(built: dict) -> None:
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        people = con.execute(
            "select email, hubspot_contact_id, mailchimp_audience_count, first_name, last_name"
            " from intermediate.int_people_unified order by email"
        ).fetchall()
    assert people == [
        # 'Ada@Example.com ' and 'ada@example.COM' in MailChimp, '  ADA@example.com' in HubSpot
        ("ada@example.com", "101", 2, "Ada", "Lovelace"),
        # empty names everywhere become nulls
        ("bob@example.com", "102", 1, None, None),
        ("cyd@example.com", "103", 1, "Cyd", "Cee"),
        # only in MailChimp; the HubSpot contact without an email (105) is nobody's
        ("dee@example.com", None, 1, "Dee", "Dee"),
        ("eve@example.com", "104", 0, "Eve", "Ee"),
    ]


def test_attribution_window_comes_from_the_environment(docs: Path) -> None:
    # The window's effect on the numbers is the unit test's business (and the 30-day case above);
    # here, only that the environment variable is what the SQL uses.
    compiled = docs / "compiled" / "campaign_pipeline" / "models" / "intermediate" / "marketing"
    sql = (compiled / "int_deals_attributed_to_campaigns.sql").read_text()
    assert "interval (10) day" in sql


def test_every_model_and_column_is_documented(docs: Path) -> None:
    """`dbt docs generate` works, and the docs describe every model and every column it finds."""
    # No dbt package may be needed: the package hub is out of reach, `dbt deps` can never run.
    assert not (DBT_PROJECT_DIR / "packages.yml").exists()
    assert not (DBT_PROJECT_DIR / "dependencies.yml").exists()
    manifest = json.loads((docs / "manifest.json").read_text())
    catalog = json.loads((docs / "catalog.json").read_text())

    undocumented = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model":
            continue
        if not node["description"].strip():
            undocumented.append(unique_id)
        described = {
            name for name, column in node["columns"].items() if column["description"].strip()
        }
        actual = set(catalog["nodes"][unique_id]["columns"])
        undocumented += [f"{unique_id}.{column}" for column in sorted(actual - described)]
        # and no documented column that the model does not have
        undocumented += [f"{unique_id}.{column} (stale)" for column in sorted(described - actual)]
    assert undocumented == []
