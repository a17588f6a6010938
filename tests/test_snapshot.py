"""The marts' published snapshot: what the dashboards read instead of the warehouse."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import duckdb
import orjson
import pytest

from pipeline.config import Settings
from pipeline.dashboard import DashboardError, table_json
from pipeline.snapshot import current, publish, read_manifest


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = replace(Settings.from_env({}), data_dir=tmp_path)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema marts; create schema quarantine; create schema raw_hubspot")
        con.execute(
            "create table marts.campaign_performance as select 'c' || i as campaign_id, "
            "i * 1.5::decimal(18, 2) as won_revenue, date '2026-01-01' + i::integer as sent_on "
            "from range(5) t(i)"
        )
        con.execute(
            "create table quarantine.quarantine_rows as select 'hubspot.deals' as source_stream, "
            "'missing amount' as quarantine_reason from range(3)"
        )
        con.execute(
            "create table raw_hubspot.deals as select now() as _airbyte_extracted_at from range(2)"
        )
    (settings.runs_dir).mkdir(parents=True)
    line = {
        "step": "check_marts",
        "status": "success",
        "started_at": 1.8e9,
        "metrics": {"statistics": {"marts.x": {"evaluated_expectations": 4,
                                               "unsuccessful_expectations": 1}}},
    }  # fmt: skip
    (settings.runs_dir / "r1.jsonl").write_bytes(orjson.dumps(line) + b"\n")
    return settings


def test_a_snapshot_holds_every_mart_and_the_quality_facts(settings):
    publish(settings, "r1")
    folder = current(settings)
    manifest = read_manifest(folder)
    assert manifest["run_id"] == "r1"
    rows = {name: table["rows"] for name, table in manifest["tables"].items()}
    assert rows == {
        "campaign_performance": 5,
        "quarantine_by_reason": 1,
        "source_freshness": 1,
        "quality_runs": 1,
    }
    assert orjson.loads(table_json(settings, "quarantine_by_reason")) == [
        {"source_stream": "hubspot.deals", "quarantine_reason": "missing amount",
         "quarantined_rows": 3}
    ]  # fmt: skip
    marts = orjson.loads(table_json(settings, "campaign_performance"))
    assert marts[1] == {"campaign_id": "c1", "won_revenue": 1.5, "sent_on": "2026-01-02"}
    runs = orjson.loads(table_json(settings, "quality_runs"))
    assert [(r["stage"], r["suite"], r["evaluated"], r["failed"]) for r in runs] == [
        ("marts", "marts.x", 4, 1)
    ]


def test_publishing_swaps_current_and_keeps_only_the_previous_snapshot(settings):
    seen = []
    for run in ("r1", "r2", "r3"):
        publish(settings, run)
        seen.append(current(settings))
    assert len(set(seen)) == 3
    assert read_manifest(current(settings))["run_id"] == "r3"
    left = sorted(p.name for p in settings.snapshots_dir.iterdir())
    assert left == sorted([seen[1].name, seen[2].name, "current"])
    assert os.readlink(settings.snapshots_dir / "current") == seen[2].name  # relative: movable


def test_no_snapshot_and_no_table_are_one_clear_error(settings, tmp_path):
    empty = replace(settings, data_dir=tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="run the pipeline first"):
        current(empty)
    publish(settings, "r1")
    with pytest.raises(DashboardError, match="no table 'nope'"):
        table_json(settings, "nope")
