"""``make bench`` at a tiny scale: every comparator and ingestion stage lands every record.

No timing is asserted (the machine is shared): the benchmark's figures are only worth something
if each side loaded the same records, which is what this checks, against the mock's ground truth.
The heavy stages (Spark, dbt, the quality checks, the lake comparison) are left out to keep the
test short; their own tests cover them, and ``make bench`` runs them. So is the PyAirbyte
comparator: it needs an environment of its own (``testbench/benchmark/pyairbyte/``), whose cold
install took up to six minutes of the suite; ``make bench`` installs and runs it.
"""

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from testbench.benchmark.run import INGESTION

SCALE = 200
# On a quiet machine the run takes about a minute (a dozen connector processes, each paying the
# CDK's import); on a shared, loaded one it takes many times that, hence the generous limits.
RUN_TIMEOUT_SECONDS = 1700
HEAVY = ("lake_spark", "dbt_build", "quality_checks", "lake", "warm_stages", "pyairbyte")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench")
    command = [
        sys.executable,
        "-m",
        "testbench.benchmark",
        "--scales",
        str(SCALE),
        "--out",
        str(out),
    ]
    command += ["--no-docs", "--seed", "7", "--skip", ",".join(HEAVY)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert (out / "bench.png").stat().st_size > 0
    return orjson.loads((out / "results.json").read_bytes())


@pytest.mark.timeout(RUN_TIMEOUT_SECONDS + 60)
def test_every_comparator_loads_every_member(results: dict) -> None:
    scale = results["scales"][0]
    members = scale["truth_counts"]["list_members"]
    assert members > 0
    compared = [name for name in INGESTION if name not in HEAVY]
    assert set(scale["ingestion"]) == set(compared)
    for name in compared:
        row = scale["ingestion"][name]
        assert "error" not in row, row.get("error")
        assert row["records"] == members, name
        assert row["wall_s"] > 0 and row["peak_rss_mb"] > 0


def test_ingestion_stages_land_the_truth(results: dict) -> None:
    scale = results["scales"][0]
    truth = scale["truth_counts"]
    stages = scale["stages"]
    assert set(stages) == {
        "ingest_mailchimp",
        "ingest_hubspot",
        "ingest_google_sheets",
        "ingest_email_activity",
    }
    for row in stages.values():
        assert "error" not in row, row.get("error")
        assert row["records"] > 0
    mailchimp = stages["ingest_mailchimp"]["detail"]["per_stream"]
    for stream in ("lists", "list_members", "campaigns", "segments", "tags"):
        assert mailchimp[stream] == truth[stream], stream
    hubspot = stages["ingest_hubspot"]["detail"]["per_stream"]
    for stream in ("contacts", "companies", "deals"):
        assert hubspot[stream] == truth[stream], stream
    assert stages["ingest_email_activity"]["records"] == truth["email_activity"]


def test_incremental_reads_less_than_the_full_sync(results: dict) -> None:
    scale = results["scales"][0]
    assert "error" not in scale["incremental"], scale["incremental"].get("error")
    assert 0 < scale["incremental"]["records"] < scale["ingestion"]["ours"]["records"]


def test_targets_and_outputs_are_reported(results: dict) -> None:
    names = {check["target"].split(" (")[0] for check in results["targets"]}
    assert {"ours rec/s", "ours / dlt", "ours / pyairbyte", "ours / cdk_simple"} <= names
    assert results["machine"]["cores"] >= 1
    assert (
        Path(__file__)
        .parent.parent.joinpath("testbench", "benchmark", "pyairbyte", "uv.lock")
        .exists()
    )
