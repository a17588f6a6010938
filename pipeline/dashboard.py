"""The dashboards: a static site built from the marts' published snapshot (``dashboards/``).

Pages are Markdown with JavaScript cells (Observable Framework); their data comes from one data
loader, ``dashboards/src/data/[table].json.py``, which calls :func:`table_json` for a table of the
current snapshot (``pipeline.snapshot``). The site never opens the warehouse, so it builds and
serves while the next run writes. ``build`` runs ``npm ci`` when the locked packages are not
installed, then ``observable build``; ``serve_site`` serves the built site on 127.0.0.1.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.snapshot import current, read_manifest

DASHBOARDS = PROJECT_ROOT / "dashboards"
SITE = DASHBOARDS / "dist"
NPM_CACHE = PROJECT_ROOT / ".tools" / "npm-cache"


class DashboardError(RuntimeError):
    """The dashboards cannot be built here, for a reason a person can fix."""


def table_json(settings: Settings, table: str) -> bytes:
    """One table of the current snapshot as a JSON array of objects (dates as ISO strings)."""
    import duckdb

    folder = current(settings)
    tables = read_manifest(folder)["tables"]
    if table not in tables:
        raise DashboardError(f"no table {table!r} in the snapshot {folder} (has: {sorted(tables)})")
    with duckdb.connect() as con:
        cursor = con.execute(f"select * from read_parquet('{folder / (table + '.parquet')}')")
        columns = [column for column, *_ in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return orjson.dumps(rows, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def build(settings: Settings) -> dict[str, Any]:
    """Build the site from the current snapshot into ``dashboards/dist``; return its pages."""
    snapshot = current(settings)  # fails with a clear line when no run has published one
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise DashboardError(
            "the dashboards need Node.js 18 or newer with npm (https://nodejs.org); "
            "the rest of the pipeline does not"
        )
    env = settings.child_env(
        npm_config_cache=str(NPM_CACHE),
        # The data loader runs with this environment's Python, which has the pipeline installed.
        PATH=f"{Path(sys.executable).parent}:{settings.base_env.get('PATH', '')}",
        OBSERVABLE_TELEMETRY_DISABLE="true",
    )
    lock = DASHBOARDS / "package-lock.json"
    installed = DASHBOARDS / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        _npm([npm, "ci", "--no-audit", "--no-fund"], env, "npm ci")
    # Data loaders' outputs are cached by Framework: a new snapshot must be read again.
    shutil.rmtree(DASHBOARDS / "src" / ".observablehq" / "cache", ignore_errors=True)
    _npm([npm, "run", "build"], env, "observable build")
    pages = sorted(str(p.relative_to(SITE)) for p in SITE.rglob("*.html"))
    return {"site": str(SITE), "pages": pages, "snapshot": snapshot.name}


def _npm(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, cwd=DASHBOARDS, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise DashboardError(f"{what} failed (exit {done.returncode}):\n{tail}")


def serve_site(host: str, port: int) -> None:
    """Serve the built site until interrupted (a static folder: any web server would do)."""
    if not (SITE / "index.html").exists():
        raise DashboardError("the dashboards are not built: run `make dashboard`")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        url = f"http://{host}:{server.server_address[1]}/"
        print(f"dashboards at {url} (Ctrl-C to stop)", flush=True)
        server.serve_forever()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # no line per request
        pass
