"""Time travel on the lake's Delta tables, for people: ``pipeline lake history`` and ``restore``.

The tables are written with delta-rs (no JVM: this file is fast); the Spark jobs write the same
format (tests/test_spark_jobs.py reads their tables back with delta-rs). The commands run as the
installed console script in a subprocess, as a person or cron would run them.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from pipeline.executables import console_script

TABLE = "gold/campaign_engagement"


def pipeline(lake: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAKE_ROOT": str(lake)}
    return subprocess.run(
        [console_script("pipeline"), *args], capture_output=True, text=True, env=env, timeout=120
    )


def opens(lake: Path) -> list[int]:
    return DeltaTable(str(lake / TABLE)).to_pyarrow_table().column("opens").to_pylist()


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """A gold table with three versions: a good run, a second good run, then a bad one."""
    for value in (3, 4, -1):
        rows = pa.table({"campaign_id": ["c1"], "opens": pa.array([value], pa.int64())})
        write_deltalake(str(tmp_path / TABLE), rows, mode="overwrite")
    return tmp_path


def test_history_lists_every_version_newest_first(lake: Path) -> None:
    done = pipeline(lake, "lake", "history", TABLE)
    assert done.returncode == 0, done.stderr
    history = json.loads(done.stdout)
    assert [v["version"] for v in history["versions"]] == [2, 1, 0]
    assert all(v["operation"] and v["at"] for v in history["versions"])


def test_restore_rolls_a_bad_run_back_as_a_new_version(lake: Path) -> None:
    assert opens(lake) == [-1]
    done = pipeline(lake, "lake", "restore", TABLE, "--version", "1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == 3  # a restore is one more commit
    assert opens(lake) == [4]
    # The bad version is still in the log: the restore itself can be undone.
    versions = json.loads(pipeline(lake, "lake", "history", TABLE).stdout)["versions"]
    assert [v["operation"] for v in versions][0] == "RESTORE"


def test_bad_input_is_one_line_naming_what_to_fix(lake: Path) -> None:
    unknown = pipeline(lake, "lake", "history", "gold/nope")
    assert unknown.returncode != 0 and "unknown lake table 'gold/nope'" in unknown.stderr
    beyond = pipeline(lake, "lake", "restore", TABLE, "--version", "9")
    assert beyond.returncode != 0 and "no version 9" in beyond.stderr
    assert opens(lake) == [-1]


def test_maintain_compacts_small_files_and_keeps_the_week_of_versions(tmp_path: Path) -> None:
    table = tmp_path / "gold/person_sessions"
    for day in range(5):  # five runs, each appending a small file
        rows = pa.table({"session_id": [f"s{day}"], "events": pa.array([day], pa.int64())})
        write_deltalake(str(table), rows, mode="append")
    done = pipeline(tmp_path, "lake", "maintain")
    assert done.returncode == 0, done.stderr
    files = json.loads(done.stdout)["tables"]["gold/person_sessions"]
    assert (files["files_before"], files["files_after"], files["compacted"]) == (5, 1, 5)
    assert files["vacuumed"] == 0  # every file is younger than the week of time travel
    compacted = DeltaTable(str(table))
    assert sorted(compacted.to_pyarrow_table().column("session_id").to_pylist()) == [
        f"s{day}" for day in range(5)
    ]
    compacted.load_as_version(2)  # an older version is still readable
    assert compacted.to_pyarrow_table().num_rows == 3
