"""The dbt models are lint-clean under the project's sqlfluff rules (.sqlfluff at the root).

The dbt templater compiles every model, so it needs a warehouse and a lake to point at: the small
fixture of tests/dbt_fixtures.py, in a temporary directory. One process: the machine is shared,
and sqlfluff's parallel mode costs more than it saves on a few dozen models.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dbt_fixtures import write_dev_fixture

from pipeline.executables import console_script

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_dbt_models_are_lint_clean(tmp_path: Path) -> None:
    warehouse, lake = tmp_path / "warehouse.duckdb", tmp_path / "lake"
    write_dev_fixture(warehouse, lake)
    result = subprocess.run(
        [console_script("sqlfluff"), "lint", "dbt_project/models", "--processes", "1"],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "WAREHOUSE_PATH": str(warehouse),
            "LAKE_ROOT": str(lake),
            # the templater's dbt writes its target/ and logs/ here, not into the working tree
            "DBT_TARGET_PATH": str(tmp_path / "target"),
            "DBT_LOG_PATH": str(tmp_path / "logs"),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    # exit code 1: violations, listed on stdout; 2: sqlfluff or the dbt templater failed
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
