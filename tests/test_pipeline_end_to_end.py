"""The whole pipeline through Airflow, two ways, at a small scale, checked against the mock's truth.

First `make run` in miniature: `pipeline run` starts the mock APIs, runs the DAG with
`airflow dags test` on SQLite, and stops the mock. The warehouse must then hold exactly what the
mock served. Then `make up` over the leftovers of that run: Airflow's UI with its scheduler on
127.0.0.1 with auth on, where the test does what an instructor does in front of a class (log in,
trigger the DAG) through the REST API the UI uses. That second run must give the same marts.
One data folder for both, so the suite pays for two pipeline runs, not three.

While each verb runs, testbench/listeners.py watches every process it starts: none may listen
off loopback. Afterwards, no credential and no secret of the installation (data/secrets/) may
appear in any output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import requests
from deltalake import DeltaTable
from served_truth import assert_every_raw_record_once, served_truth

from pipeline.executables import console_script
from testbench.listeners import ListenerWatch
from testbench.support import free_port

# Two pipeline runs and an Airflow start: minutes each on 2 cores, more on a loaded machine.
pytestmark = [pytest.mark.timeout(3600)]

SEED, SCALE = 11, 300
# Credentials only this test uses, so that it can look for them in every output.
MAILCHIMP_KEY = "e2etestsecret0mailchimp00000000-us3"
HUBSPOT_TOKEN = "pat-na1-e2etestsecret-hubspot-token-0000"
GOOGLE_CLIENT_SECRET = "GOCSPX-testonly-7d2b9e4c1a0f"
GOOGLE_REFRESH_TOKEN = "1//testonly-refresh-3f8a6c2e9b1d"
MART_COLUMNS = "campaign_id, recipients, opens, unique_opens, clicks, unique_clicks, won_deals"
UI_STARTUP_SECONDS = 420
UI_RUN_SECONDS = 1800
UI_RUN_ID = "ui-test"


@pytest.fixture(scope="module")
def pipeline_env(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The data folder and environment both runs share."""
    data = tmp_path_factory.mktemp("pipeline-data")
    env = {
        **os.environ,
        "PIPELINE_DATA_DIR": str(data),
        "MOCK_PORT": str(free_port()),
        "MOCK_SEED": str(SEED),
        "MOCK_SCALE": str(SCALE),
        "MOCK_MAILCHIMP_API_KEY": MAILCHIMP_KEY,
        "MOCK_HUBSPOT_TOKEN": HUBSPOT_TOKEN,
        # Google's OAuth client secret and refresh token, on both sides, for the leak test.
        "MOCK_GOOGLE_CLIENT_SECRET": GOOGLE_CLIENT_SECRET,
        "GOOGLE_CLIENT_SECRET": GOOGLE_CLIENT_SECRET,
        "MOCK_GOOGLE_REFRESH_TOKEN": GOOGLE_REFRESH_TOKEN,
        "GOOGLE_REFRESH_TOKEN": GOOGLE_REFRESH_TOKEN,
        # Only the run the test triggers in the UI: no scheduled run competes with it.
        "PIPELINE_SCHEDULE": "none",
    }
    env.pop("AIRFLOW_HOME", None)
    return data, env


@dataclass(frozen=True)
class CliRun:
    output: str
    mart: list[tuple]
    listeners: ListenerWatch  # every listening socket of every process the run started


@pytest.fixture(scope="module")
def cli_run(pipeline_env) -> CliRun:
    """`pipeline run`: its output, the mart it left, and what listened while it ran."""
    data, env = pipeline_env
    process = subprocess.Popen(
        [console_script("pipeline"), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with ListenerWatch(process.pid) as listeners:
        try:
            stdout, stderr = process.communicate(timeout=1800)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, stdout[-3000:] + stderr[-3000:]
    return CliRun(stdout + stderr, _mart(data / "warehouse.duckdb"), listeners)


def _wait(check, seconds: float, what: str, process: subprocess.Popen):
    """Poll ``check`` until it returns something true, while `pipeline up` keeps running.

    A request that times out or is refused is a poll that saw nothing yet: Airflow's API server
    on SQLite can take more than a request's timeout to answer while the run's tasks keep two
    cores busy (it failed CI once so). The deadline still bounds the wait.
    """
    deadline = time.monotonic() + seconds
    last_error = None
    while time.monotonic() < deadline:
        assert process.poll() is None, f"`pipeline up` exited early while waiting for {what}"
        try:
            result = check()
        except requests.RequestException as error:
            result, last_error = None, error
        if result:
            return result
        time.sleep(3)
    raise AssertionError(f"timed out waiting for {what} (last request error: {last_error})")


@pytest.fixture(scope="module")
def airflow_ui(pipeline_env, cli_run):
    """`pipeline up` on the data folder `pipeline run` left, until the module's tests are done.

    Its listening sockets are watched from its start until it has stopped: one off loopback
    fails the module at teardown, whenever it appeared."""
    data, env = pipeline_env
    port = free_port()
    with (data / "pipeline-up.out").open("wb") as output:
        process = subprocess.Popen(
            [console_script("pipeline"), "up", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so that the whole tree can be stopped at the end
        )
    listeners = ListenerWatch(process.pid)
    listeners.start()
    url = f"http://127.0.0.1:{port}"

    def answering():  # refused while it starts: _wait polls again
        return requests.get(f"{url}/api/v2/version", timeout=5).ok

    try:
        _wait(answering, UI_STARTUP_SECONDS, "the Airflow API server", process)
        yield url, port, process, listeners
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        listeners.stop()
    listeners.check()


@dataclass(frozen=True)
class UiRun:
    mart: list[tuple]
    api: str  # the run's URL in the REST API
    session: requests.Session  # logged in as admin


@pytest.fixture(scope="module")
def ui_run(pipeline_env, airflow_ui) -> UiRun:
    """Log in as the generated admin, trigger the DAG, wait for the run; the mart it left."""
    data, _ = pipeline_env
    url, _, process, _ = airflow_ui
    password = json.loads((data / "secrets" / "airflow-passwords.json").read_text())["admin"]
    # Auth is on: without a token the API refuses.
    assert requests.get(f"{url}/api/v2/dags", timeout=10).status_code == 401
    token = requests.post(
        f"{url}/auth/token", json={"username": "admin", "password": password}, timeout=30
    ).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    api = f"{url}/api/v2/dags/campaign_pipeline"

    def parsed():
        return session.get(api, timeout=10).ok

    _wait(parsed, 180, "the DAG to be parsed", process)
    assert session.patch(api, json={"is_paused": False}, timeout=10).ok
    run = session.post(
        f"{api}/dagRuns",
        json={"logical_date": None, "conf": {"pipeline_run_id": UI_RUN_ID}},
        timeout=10,
    ).json()

    def finished():
        state = session.get(f"{api}/dagRuns/{run['dag_run_id']}", timeout=10).json()["state"]
        return state if state in {"success", "failed"} else None

    assert _wait(finished, UI_RUN_SECONDS, "the triggered run", process) == "success"
    return UiRun(_mart(data / "warehouse.duckdb"), f"{api}/dagRuns/{run['dag_run_id']}", session)


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
    return served_truth(SEED, SCALE)


def test_campaign_performance_matches_what_the_mock_served(cli_run, truth):
    mart = {row[0]: row for row in cli_run.mart}
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


def test_return_on_spend_matches_the_mocks_truth_and_quarantine_reconciles(
    pipeline_env, cli_run, truth
):
    """The spreadsheet's tabs landed in raw_google_sheets; per campaign, the marts' spend and
    return on spend equal the truth's for the rows that parse and match; every other row is in
    quarantine with the truth's reason."""
    data, _ = pipeline_env
    sheets = truth["google_sheets"]
    expected = {row["campaign_id"]: row for row in sheets["campaigns"]}
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as connection:
        tabs = {
            table: connection.execute(f"select count(*) from raw_google_sheets.{table}").fetchone()
            for table in ("campaign_spend", "pipeline_targets")
        }
        mart = connection.execute(
            "select campaign_id, spend_usd, return_on_spend from marts.campaign_return_on_spend"
            " where has_spend"
        ).fetchall()
        reasons = dict(
            connection.execute(
                "select quarantine_reason, count(*) from quarantine.quarantine_rows"
                " where source_stream = 'google_sheets.campaign_spend' group by 1"
            ).fetchall()
        )
    assert tabs == {
        "campaign_spend": (sheets["tabs"]["Campaign spend"]["data_rows"],),
        "pipeline_targets": (sheets["tabs"]["Pipeline targets"]["data_rows"],),
    }
    assert {row[0] for row in mart} == set(expected)
    for campaign_id, spend_usd, return_on_spend in mart:
        assert Decimal(str(spend_usd)) == Decimal(str(expected[campaign_id]["spend_usd"]))
        assert return_on_spend == pytest.approx(expected[campaign_id]["return_on_spend"], abs=1e-6)
    assert reasons == sheets["quarantine_reasons"]
    assert any(row["return_on_spend"] > 0 for row in sheets["campaigns"])


def test_raw_tables_hold_every_record_once_after_both_runs(pipeline_env, ui_run, truth):
    data, _ = pipeline_env
    counts = truth["counts"]
    assert_every_raw_record_once(data / "warehouse.duckdb", truth)
    # Email activity goes to the lake, not to the raw tables: silver holds each event once.
    silver = DeltaTable(str(data / "lake" / "silver" / "email_activity")).to_pyarrow_table()
    with duckdb.connect() as connection:
        connection.register("silver", silver)
        events = connection.execute(
            "select count(*), count(distinct (campaign_id, email_id, action, event_at)) from silver"
        ).fetchone()
    assert events == (counts["email_activity"],) * 2


def test_a_run_triggered_in_the_ui_over_leftovers_gives_the_same_marts(cli_run, ui_run):
    assert ui_run.mart == cli_run.mart
    assert len(cli_run.mart) > 0


def test_the_run_prints_a_summary(cli_run):
    assert "campaign_performance" in cli_run.output
    assert "extract_load_mailchimp" in cli_run.output


def test_pipeline_run_listens_on_loopback_only(pipeline_env, cli_run):
    """`make run`: the mock, Airflow's `dags test`, dbt, Spark's driver, the connectors."""
    _, env = pipeline_env
    cli_run.listeners.check()
    # The watch saw the run's servers, so it was looking: the mock at least.
    assert f"127.0.0.1:{env['MOCK_PORT']}" in cli_run.listeners.addresses()


def test_pipeline_up_listens_on_loopback_only(pipeline_env, airflow_ui, ui_run):
    """`make up`, sampled from its start to the end of the run triggered in the UI (and on to
    its stop, checked at teardown): the UI, the mock, and no log server on any interface."""
    _, env = pipeline_env
    _, port, _, listeners = airflow_ui
    listeners.check()
    addresses = listeners.addresses()
    assert {f"127.0.0.1:{port}", f"127.0.0.1:{env['MOCK_PORT']}"} <= addresses, addresses
    assert not any(listener.port in {8793, 8794} for listener in listeners.seen), addresses


def test_task_logs_show_in_the_ui_without_log_servers(ui_run):
    """The API server reads task logs from AIRFLOW_HOME/logs: no log server is needed."""
    instances = ui_run.session.get(f"{ui_run.api}/taskInstances", timeout=30).json()
    task = next(ti for ti in instances["task_instances"] if ti["task_id"] == "check_marts")
    logs = ui_run.session.get(
        f"{ui_run.api}/taskInstances/{task['task_id']}/logs/{task['try_number']}",
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert logs.ok, logs.text[:500]
    events = [entry.get("event", "") for entry in logs.json()["content"]]
    # A header names where the lines come from: the task's log file, read by the API server.
    sources = events[1 : events.index("::endgroup::")]
    assert sources, events[:10]
    assert all("/airflow/logs/" in source and "check_marts" in source for source in sources)
    assert len(events) > len(sources) + 3, "the task's own lines follow the header"


def _installation_secrets(data: Path) -> dict[str, str]:
    """data/secrets/: the secrets this installation generated, and the admin password."""
    folder = data / "secrets"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    found = {}
    for path in sorted(folder.iterdir()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        if path.suffix != ".json":
            found[path.name] = path.read_text().strip()
    return found


def test_every_server_secret_is_this_installations_own(pipeline_env, ui_run):
    data, _ = pipeline_env
    secrets = _installation_secrets(data)
    assert set(secrets) >= {
        "airflow-api-secret-key",
        "airflow-jwt-secret",
        "airflow-admin-password",
    }
    password = json.loads((data / "secrets" / "airflow-passwords.json").read_text())
    assert password == {"admin": secrets["airflow-admin-password"]}
    assert all(len(value) >= 43 for value in secrets.values()), "32 random bytes each"


def test_no_secret_in_any_output(pipeline_env, cli_run, ui_run):
    """Both runs' outputs, `pipeline up`'s, and every file they left (Airflow task logs, dbt and
    GX artifacts, the reports) are searched for the credentials and for the installation's
    secrets (the signing keys, the admin password), which live in data/secrets/ only."""
    data, _ = pipeline_env
    secrets = [
        MAILCHIMP_KEY,
        HUBSPOT_TOKEN,
        GOOGLE_CLIENT_SECRET,
        GOOGLE_REFRESH_TOKEN,
        *_installation_secrets(data).values(),
    ]
    texts = [cli_run.output]
    for path in data.rglob("*"):
        if path.is_relative_to(data / "secrets"):
            continue
        if path.is_file() and path.suffix not in {".duckdb", ".parquet", ".db", ".wal"}:
            texts.append(path.read_bytes().decode(errors="replace"))
    assert len(texts) > 5, "the run should have left logs and artifacts to search"
    for secret in secrets:
        assert not any(secret in text for text in texts), "a secret leaked into an output"
    # Airflow prints a password it generates; this one it was given.
    assert not any("Password for user" in text for text in texts)


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
def test_the_run_report_renders_offline_with_its_charts(pipeline_env, cli_run, ui_run, tmp_path):
    data, _ = pipeline_env
    reports = sorted((data / "reports").glob("cli__*.html"))
    assert len(reports) == 1 and str(reports[0]) in cli_run.output, (
        "the CLI run prints its report's path"
    )
    ui_report = data / "reports" / f"{UI_RUN_ID}.html"
    assert ui_report.exists(), "the run triggered in the UI wrote its report too"
    reports.append(ui_report)
    page = reports[-1].read_text()
    # Self-contained: nothing is fetched (XML namespace URIs in the inline SVG are only names).
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:|url\(\s*["']?https?:""", page)
    assert "<script" not in page and "<link" not in page

    url = reports[-1].as_uri()
    dom = _chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    # Every step of the run is in the flow, and the business charts were drawn.
    for step in ("extract_load_mailchimp", "extract_load_google_sheets", "build_lake"):
        assert step in dom.stdout
    assert "check_marts" in dom.stdout and "land_email_events" in dom.stdout
    assert dom.stdout.count("<svg") >= 2
    assert 'id="chart-revenue"><svg' in dom.stdout.replace("\n", "").replace("    ", "")
    assert 'id="chart-return_on_spend"><svg' in dom.stdout.replace("\n", "").replace("    ", "")

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


# --- the dashboards ---------------------------------------------------------------------------

DASHBOARD_PAGES = ("index", "campaign", "funnel", "audiences", "return-on-spend", "quality")
DASHBOARD_SHOTS = SCREENSHOT.parent / "dashboard"


def _dollars(value) -> str:
    return f"${round(float(value)):,}"


@pytest.mark.skipif(
    (CHROMIUM is None or shutil.which("npm") is None) and not os.environ.get("CI"),
    reason="needs Node.js with npm and Debian's chromium (CI installs both)",
)
def test_the_dashboards_build_from_the_snapshot_and_show_the_marts(pipeline_env, cli_run, ui_run):
    """`make dashboard` on the run's snapshot, every page opened in headless Chromium."""
    import http.server
    import threading
    from functools import partial

    data, env = pipeline_env
    snapshot = (data / "snapshots" / "current").resolve()
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["run_id"] == UI_RUN_ID, "the last successful run published the snapshot"
    assert manifest["tables"]["campaign_performance"]["rows"] > 0
    assert len(list((data / "snapshots").iterdir())) <= 3, "old snapshots are removed"

    built = subprocess.run(
        [console_script("pipeline"), "dashboard", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    site = Path(json.loads(built.stdout)["site"])
    assert {f"{page}.html" for page in DASHBOARD_PAGES} <= {p.name for p in site.glob("*.html")}
    pages_html = b"".join(p.read_bytes() for p in site.rglob("*.html"))
    assert not re.search(rb"""(src|href)\s*=\s*["']?https?:""", pages_html), "nothing fetched"

    def parquet(table: str, query: str = "select * from t"):
        with duckdb.connect() as con:
            con.execute(
                f"create view t as select * from read_parquet('{snapshot / table}.parquet')"
            )
            return con.execute(query).fetchall()

    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    DASHBOARD_SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        checked = subprocess.run(
            [
                "node",
                str(Path(__file__).parent / "browser" / "check_dashboard.mjs"),
                str(site.parent / "node_modules" / "playwright-core"),
                CHROMIUM or "chromium",
                f"http://127.0.0.1:{server.server_address[1]}",
                str(DASHBOARD_SHOTS),
                *DASHBOARD_PAGES,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert checked.returncode == 0, checked.stderr[-3000:]
    pages = json.loads(checked.stdout)
    print(f"\ndashboard screenshots: {DASHBOARD_SHOTS}")
    for name in DASHBOARD_PAGES:
        assert pages[name]["errors"] == [], (name, pages[name]["errors"])
        assert pages[name]["charts"] >= 1, f"{name}: no chart was drawn"

    # The headline figures are the marts' own.
    (campaigns, recipients, pipeline_usd, revenue) = parquet(
        "campaign_performance",
        "select count(*), sum(recipients), sum(pipeline_amount), sum(won_revenue) from t",
    )[0]
    assert pages["index"]["headlines"] == {
        "campaign-performance": "Campaign performance",  # the page's heading
        "headline-campaigns": str(campaigns),
        "headline-recipients": f"{recipients:,}",
        "headline-pipeline": _dollars(pipeline_usd),
        "headline-revenue": _dollars(revenue),
    }
    # A filter changes the numbers: the first audience's campaigns only.
    filtered = pages["index"]["filtered"]
    (in_audience,) = parquet(
        "dim_campaigns",
        "select count(*) from t join read_parquet('"
        f"{snapshot / 'campaign_performance.parquet'}') p using (campaign_id) "
        f"where t.audience_name = '{filtered['audience']}'",
    )[0]
    assert filtered["headlines"]["headline-campaigns"] == str(in_audience)
    assert 0 < in_audience < campaigns
    (spend,) = parquet("campaign_return_on_spend", "select sum(spend_usd) from t")[0]
    assert pages["return-on-spend"]["headlines"]["ros-spend"] == _dollars(spend)
    (quarantined,) = parquet("quarantine_by_reason", "select sum(quarantined_rows) from t")[0]
    assert pages["quality"]["headlines"]["quality-quarantined"] == str(quarantined)
