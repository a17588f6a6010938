"""Airbyte's published connectors, clients we did not write, pointed at the mock.

Each pins an older airbyte-cdk than ours, so each has its own small uv project here
(``mailchimp/``, ``hubspot/``, ``google_sheets/``: ``pyproject.toml`` + ``uv.lock``), synced on
demand into its ``.venv``. Each hard-codes the real API's addresses and offers no setting for them,
so the one change we make is those addresses: in the installed package's files, every occurrence
of a real base URL is replaced by the mock's (the pristine file is kept beside it as
``*.airbyte-original`` and is the source of every later rewrite). Nothing else of the connector
is touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import (
    DEV_GOOGLE_CLIENT_ID,
    DEV_GOOGLE_CLIENT_SECRET,
    DEV_GOOGLE_REFRESH_TOKEN,
    DEV_GOOGLE_SPREADSHEET_ID,
    DEV_HUBSPOT_TOKEN,
    DEV_MAILCHIMP_API_KEY,
)
from testbench.support import sync_uv_project

HERE = Path(__file__).resolve().parent
ORIGINAL = ".airbyte-original"


@dataclass(frozen=True)
class Official:
    name: str  # the uv project's folder
    package: str  # the installed Python package
    executable: str  # its console script
    # (real URL as the files spell it, what it becomes given the mock's URL)
    real_urls: tuple[str, ...]
    mock_paths: tuple[str, ...]

    @property
    def project(self) -> Path:
        return HERE / self.name

    @property
    def venv(self) -> Path:
        return self.project / ".venv"


MAILCHIMP = Official(
    name="mailchimp",
    package="source_mailchimp",
    executable="source-mailchimp",
    real_urls=("https://{{ config['data_center'] }}.api.mailchimp.com/3.0/",),
    mock_paths=("/3.0/",),
)
HUBSPOT = Official(
    name="hubspot",
    package="source_hubspot",
    executable="source-hubspot",
    real_urls=("https://api.hubapi.com",),
    mock_paths=("",),
)
GOOGLE_SHEETS = Official(
    name="google_sheets",
    package="source_google_sheets",
    executable="source-google-sheets",
    # Its manifest's API root and its two token endpoints (OAuth client, service account).
    real_urls=(
        "https://sheets.googleapis.com/",
        "https://www.googleapis.com/oauth2/v4/token",
        "https://oauth2.googleapis.com/token",
    ),
    mock_paths=("/", "/oauth2/v4/token", "/token"),
)
OFFICIAL = {connector.name: connector for connector in (MAILCHIMP, HUBSPOT, GOOGLE_SHEETS)}


def _package_dir(connector: Official) -> Path:
    found = sorted(connector.venv.glob(f"lib/python3*/site-packages/{connector.package}"))
    if not found:
        raise FileNotFoundError(f"{connector.package} is not installed in {connector.venv}")
    return found[0]


def install(connector: Official, mock_url: str) -> Path:
    """The connector's executable, installed and pointed at ``mock_url``."""
    sync_uv_project(connector.project)
    mock_url = mock_url.rstrip("/")
    for path in sorted(_package_dir(connector).rglob("*")):
        if path.suffix not in {".py", ".yaml", ".yml", ".json"}:
            continue
        original = path.with_name(path.name + ORIGINAL)
        text = (original if original.exists() else path).read_text()
        if not any(url in text for url in connector.real_urls):
            continue
        if not original.exists():
            shutil.copyfile(path, original)
        for real, mock_path in zip(connector.real_urls, connector.mock_paths, strict=True):
            text = text.replace(real, mock_url + mock_path)
        # A new file, never a write in place: uv installs by hard-linking its cache's files, and
        # writing through the link would change the package for every environment made later.
        replacement = path.with_name(path.name + ".new")
        replacement.write_text(text)
        os.replace(replacement, path)
        shutil.rmtree(path.parent / "__pycache__", ignore_errors=True)
    return connector.venv / "bin" / connector.executable


def run(executable: Path, *args: str, cwd: Path, timeout: float = 600) -> list[dict]:
    """Run one Airbyte command; its messages, parsed (lines that are not JSON are kept as logs)."""
    done = subprocess.run(
        [str(executable), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "VIRTUAL_ENV": ""},
    )
    messages = []
    for line in done.stdout.splitlines():
        try:
            messages.append(json.loads(line))
        except ValueError:
            messages.append({"type": "LOG", "log": {"level": "RAW", "message": line}})
    if done.returncode != 0:
        messages.append({"type": "EXIT", "code": done.returncode, "stderr": done.stderr[-4000:]})
    return messages


# Each connector's configuration for the mock's development credentials.
CONFIGS = {
    "mailchimp": {
        "credentials": {"auth_type": "apikey", "apikey": DEV_MAILCHIMP_API_KEY},
        # What the connector's own config migration writes from the key's suffix.
        "data_center": DEV_MAILCHIMP_API_KEY.rsplit("-", 1)[-1],
        "start_date": "2020-01-01T00:00:00.000Z",
    },
    "hubspot": {
        "credentials": {
            "credentials_title": "Private App Credentials",
            "access_token": DEV_HUBSPOT_TOKEN,
        },
        "start_date": "2020-01-01T00:00:00Z",
    },
    "google_sheets": {
        "spreadsheet_id": DEV_GOOGLE_SPREADSHEET_ID,
        "credentials": {
            "auth_type": "Client",
            "client_id": DEV_GOOGLE_CLIENT_ID,
            "client_secret": DEV_GOOGLE_CLIENT_SECRET,
            "refresh_token": DEV_GOOGLE_REFRESH_TOKEN,
        },
    },
}


def configured_catalog(streams: list[dict]) -> dict:
    """Every stream, incremental where the connector offers it (on its default cursor)."""
    configured = []
    for stream in streams:
        incremental = "incremental" in stream["supported_sync_modes"]
        entry = {
            "stream": stream,
            "sync_mode": "incremental" if incremental else "full_refresh",
            "destination_sync_mode": "append",
        }
        if incremental:
            entry["cursor_field"] = stream.get("default_cursor_field", [])
        configured.append(entry)
    return {"streams": configured}


def per_stream_state(messages: list[dict]) -> list[dict]:
    """The last state of each stream, as the platform hands it back (per-stream states)."""
    latest: dict[str, dict] = {}
    for message in messages:
        if message["type"] == "STATE" and message["state"].get("type") == "STREAM":
            latest[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
    return list(latest.values())
