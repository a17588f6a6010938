"""The whole pipeline through Airflow, twice, at a small scale, checked against the mock's truth.

This is `make run` in miniature: `pipeline run` starts the mock APIs, runs the DAG with
`airflow dags test` on SQLite, and stops the mock. The warehouse must then hold exactly what the
mock served, and a second run over the leftovers of the first must give the same marts.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import orjson
import pytest

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SEED, SCALE = 11, 300
# Credentials only this test uses, so that it can look for them in every output.
MAILCHIMP_KEY = "e2etestsecret0mailchimp00000000-us3"
HUBSPOT_TOKEN = "pat-na1-e2etestsecret-hubspot-token-0000"
MART_COLUMNS = "campaign_id, recipients, opens, unique_opens, clicks, unique_clicks, won_deals"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run the pipeline twice in one data folder; return the data folder and both outputs."""
    data = tmp_path_factory.mktemp("pipeline-data")
    env = {
        **os.environ,
        "PIPELINE_DATA_DIR": str(data),
        "MOCK_PORT": str(_free_port()),
        "MOCK_SEED": str(SEED),
        "MOCK_SCALE": str(SCALE),
        "MOCK_MAILCHIMP_API_KEY": MAILCHIMP_KEY,
        "MOCK_HUBSPOT_TOKEN": HUBSPOT_TOKEN,
    }
    env.pop("AIRFLOW_HOME", None)
    outputs, marts = [], []
    for _ in range(2):
        done = subprocess.run(
            [str(BIN / "pipeline"), "run"], env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        outputs.append(done.stdout + done.stderr)
        marts.append(_mart(data / "warehouse.duckdb"))
    return data, outputs, marts


def _mart(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        schema = connection.execute(
            "select table_schema from information_schema.tables "
            "where table_name = 'campaign_performance'"
        ).fetchone()[0]
        return connection.execute(
            f"select {MART_COLUMNS}, won_revenue, unique_open_rate, unique_click_rate "
            f"from {schema}.campaign_performance order by campaign_id"
        ).fetchall()


@pytest.fixture(scope="module")
def truth():
    done = subprocess.run(
        [str(BIN / "mock-apis"), "truth", "--seed", str(SEED), "--scale", str(SCALE)],
        capture_output=True,
        check=True,
    )
    return orjson.loads(done.stdout)


def test_campaign_performance_matches_what_the_mock_served(runs, truth):
    _, _, marts = runs
    mart = {row[0]: row for row in marts[0]}
    expected = {campaign["campaign_id"]: campaign for campaign in truth["campaigns"]}
    assert set(mart) == set(expected), "one row per sent campaign"
    assert len(mart) == truth["counts"]["sent_campaigns"]
    for campaign_id, campaign in expected.items():
        row = mart[campaign_id]
        got = dict(zip(MART_COLUMNS.split(", "), row[:7], strict=True))
        assert got == {
            "campaign_id": campaign_id,
            "recipients": campaign["emails_sent"],
            "opens": campaign["opens"],
            "unique_opens": campaign["unique_opens"],
            "clicks": campaign["clicks"],
            "unique_clicks": campaign["unique_clicks"],
            "won_deals": campaign["won_deals"],
        }, campaign_id
        assert Decimal(str(row[7])) == Decimal(str(campaign["won_revenue"])), campaign_id
        assert 0 <= row[8] <= 1 and 0 <= row[9] <= 1
    # The world must make the question interesting: some campaigns do bring revenue.
    assert sum(campaign["won_deals"] for campaign in truth["campaigns"]) > 0


def test_raw_tables_hold_every_record_once(runs, truth):
    data, _, _ = runs
    counts = truth["counts"]
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as connection:

        def count(table: str, key: str) -> tuple[int, int]:
            return connection.execute(
                f"select count(*), count(distinct ({key})) from {table}"
            ).fetchone()

        assert count("raw_mailchimp.list_members", "id, list_id") == (counts["list_members"],) * 2
        assert count("raw_mailchimp.campaigns", "id") == (counts["campaigns"],) * 2
        assert count("raw_hubspot.contacts", "id") == (counts["contacts"],) * 2
        assert count("raw_hubspot.deals", "id") == (counts["deals"],) * 2
    # Email activity goes to the lake, not to the raw tables: silver holds each event once.
    silver = data / "lake" / "silver" / "email_activity" / "current"
    with duckdb.connect() as connection:
        events = connection.execute(
            "select count(*), count(distinct (campaign_id, email_id, action, event_at)) "
            f"from read_parquet('{silver}/*/*.parquet', hive_partitioning = true)"
        ).fetchone()
    assert events == (counts["email_activity"],) * 2


def test_a_second_run_over_leftovers_gives_the_same_marts(runs):
    _, _, marts = runs
    assert marts[0] == marts[1]


def test_the_run_prints_a_summary(runs):
    _, outputs, _ = runs
    for output in outputs:
        assert "campaign_performance" in output
        assert "extract_load_mailchimp" in output


def test_no_secret_in_any_output(runs):
    data, outputs, _ = runs
    secrets = [MAILCHIMP_KEY, HUBSPOT_TOKEN]
    texts = list(outputs)
    for path in data.rglob("*"):
        if path.is_file() and path.suffix not in {".duckdb", ".parquet", ".db", ".wal"}:
            texts.append(path.read_bytes().decode(errors="replace"))
    assert len(texts) > 5, "the run should have left logs and artifacts to search"
    for secret in secrets:
        assert not any(secret in text for text in texts), "a credential leaked into an output"


# --- the run report, rendered by a real browser ---------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Kept after the run (data/ is ignored by git) so a person can look at what the test saw.
SCREENSHOT = Path(__file__).resolve().parent.parent / "data" / "test-artifacts" / "report.png"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="needs Debian's chromium (CI installs it: apt-get install chromium)",
)
def test_the_run_report_renders_offline_with_its_charts(runs, tmp_path):
    data, outputs, _ = runs
    reports = sorted((data / "reports").glob("cli__*.html"))
    assert len(reports) == 2, "one report per run"
    assert all(str(report) in output for report, output in zip(reports, outputs, strict=True))
    page = reports[-1].read_text()
    # Self-contained: nothing is fetched (XML namespace URIs in the inline SVG are only names).
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:|url\(\s*["']?https?:""", page)
    assert "<script" not in page and "<link" not in page

    url = reports[-1].as_uri()
    dom = _chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    # Every step of the run is in the flow, and the business charts were drawn.
    for step in ("extract_load_mailchimp", "land_email_events", "build_lake", "check_marts"):
        assert step in dom.stdout
    assert dom.stdout.count("<svg") >= 2
    assert 'id="chart-revenue"><svg' in dom.stdout.replace("\n", "").replace("    ", "")

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    shot = _chromium(
        f"--screenshot={SCREENSHOT}", "--window-size=1280,2000", url, profile=tmp_path / "profile"
    )
    assert shot.returncode == 0 and SCREENSHOT.exists(), shot.stderr[-2000:]
    from PIL import Image

    with Image.open(SCREENSHOT) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    bar_blue = sum(count for count, rgb in colours if rgb == (0x2F, 0x6F, 0x9F))
    assert bar_blue > 2000, "the revenue chart's bars should be visible in the screenshot"
