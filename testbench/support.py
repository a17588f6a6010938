"""What the test suite, the chaos suite and the benchmark share: a free loopback port, and a server
of their own (most often the mock APIs) started on it, waited for, and stopped.

A server started here binds 127.0.0.1, gets only the options it is given (no ``MOCK_*`` variable of
the caller's shell reaches it, so a test's world is what the test says), and is stopped by its own
process id when the block ends; on Linux it is also stopped if the process that started it dies,
even by SIGKILL (a timed-out test), so that no server is left holding a port.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from pipeline.executables import console_script
from pipeline.services import stop_process

STARTUP_TIMEOUT_SECONDS = 120


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to stop it when its parent dies (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: no such safety net
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


@contextmanager
def running_server(
    command: list[str],
    health_url: str,
    *,
    what: str,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    timeout: float = STARTUP_TIMEOUT_SECONDS,
) -> Iterator[subprocess.Popen]:
    """Start ``command``, wait until ``health_url`` answers 200, stop the server on exit.

    Its output goes to ``log_path`` (a temporary file when none is given), and the end of it is in
    the error if the server exits or stays silent while starting.
    """
    with contextlib.ExitStack() as stack:
        if log_path is None:
            log = stack.enter_context(tempfile.NamedTemporaryFile(prefix="server-", suffix=".log"))
            log_path = Path(log.name)
        with log_path.open("wb") as output:
            process = subprocess.Popen(
                command,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        stack.callback(stop_process, process)

        def failed(why: str) -> RuntimeError:
            tail = log_path.read_text(errors="replace")[-3000:]
            return RuntimeError(f"{what} {why}; its output:\n{tail}")

        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise failed(f"exited with code {process.returncode} while starting")
            with contextlib.suppress(requests.RequestException):  # not listening yet, or busy
                if requests.get(health_url, timeout=(1, 5)).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise failed(f"did not answer {health_url} within {timeout:.0f} s")
            time.sleep(0.2)
        yield process


@contextmanager
def running_mock_apis(
    *options: str,
    credentials: tuple[str, str] | None = None,
    log_path: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``mock-apis serve`` on a free loopback port with ``options``; yields its URL and process.

    ``credentials`` (a MailChimp API key, a HubSpot token) are the only ones it accepts; without
    them it accepts the development defaults.
    """
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("MOCK_")}
    if credentials is not None:
        env["MOCK_MAILCHIMP_API_KEY"], env["MOCK_HUBSPOT_TOKEN"] = credentials
    command = [console_script("mock-apis"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running_server(
        [*command, *options],
        f"{url}/_mock/health",
        what="mock-apis",
        env=env,
        log_path=log_path,
    ) as process:
        yield url, process


def sync_uv_project(project: Path) -> Path:
    """Sync a small uv project's own environment from its lock (a no-op when it is up to date)
    and return its Python: for tools that cannot share the project's environment (PyAirbyte,
    Airbyte's published connectors)."""
    root = Path(__file__).resolve().parents[1]
    uv = shutil.which("uv") or str(root / ".tools" / "bin" / "uv")
    subprocess.run(
        [uv, "sync", "--locked", "--compile-bytecode", "--quiet", "--project", str(project)],
        check=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""},
    )
    return project / ".venv" / "bin" / "python"
