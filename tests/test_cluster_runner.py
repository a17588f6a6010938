"""The runner behind `make cluster` (pipeline/cluster.py), on small stand-in services: it starts
each service once its dependencies are completed or healthy, as compose does; a service whose main
process dies goes whole (its process group) and comes back; Ctrl-C and `kill -9` of the runner
leave no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
import requests

from pipeline.cluster import LocalCluster, bootstrap_postgres, postgres_user
from pipeline.config import Settings
from pipeline.topology import COMPLETED, HEALTHY, HealthCheck, Placement, Service
from testbench.support import free_port

# A server that forks a child into its own process group (as Airflow's scheduler forks its
# LocalExecutor workers), writes both pids to a file and serves HTTP.
SERVER = textwrap.dedent(
    """
    import http.server, os, sys, time
    child = os.fork()
    if child == 0:
        time.sleep(3600)
        os._exit(0)
    with open(sys.argv[2], "a") as pids:
        pids.write(f"{os.getpid()} {child}\\n")
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler
                           ).serve_forever()
    """
)


def _services(folder: Path, port: int) -> list[Service]:
    marker = folder / "init-done"
    return [
        Service(
            name="init",
            role="a one-shot job of two steps",
            steps=(
                ("python", "-c", "import time; time.sleep(1)"),
                ("python", "-c", f"open({str(marker)!r}, 'w').write('done')"),
            ),
        ),
        Service(
            name="server",
            role="a server that forks",
            command=("python", "-c", SERVER, str(port), str(folder / "server.pids")),
            health=HealthCheck(port=port, interval=1),
            depends_on={"init": COMPLETED},
        ),
        Service(
            name="client",
            role="starts once the server is healthy",
            command=(
                "python",
                "-c",
                "import sys, time, urllib.request\n"
                "try:\n"
                "    urllib.request.urlopen(sys.argv[1]); saw = 'yes'\n"
                "except OSError:\n"
                "    saw = 'refused'\n"
                f"open({str(folder / 'client-saw-server')!r}, 'w').write(saw)\n"
                "time.sleep(3600)",
                f"http://127.0.0.1:{port}/",
            ),
            depends_on={"server": HEALTHY},
        ),
    ]


def _pids(path: Path) -> list[tuple[int, int]]:
    return [tuple(map(int, line.split())) for line in path.read_text().splitlines()]


def _gone(pid: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def test_services_start_in_dependency_order_come_back_whole_and_stop(tmp_path):
    port = free_port()
    cluster = LocalCluster(Settings(data_dir=tmp_path / "data"), services=_services(tmp_path, port))
    with cluster.running(timeout=120):
        assert (tmp_path / "init-done").read_text() == "done"  # both steps, in order
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).ok
        deadline = time.monotonic() + 30
        while not (tmp_path / "client-saw-server").exists():
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # It started after the server's health check passed: its first request was answered.
        assert (tmp_path / "client-saw-server").read_text() == "yes"
        ((server, child),) = _pids(tmp_path / "server.pids")
        os.kill(server, signal.SIGKILL)  # the service's main process dies
        assert _gone(child), "the rest of its process group went with it"
        deadline = time.monotonic() + 60
        while len(_pids(tmp_path / "server.pids")) < 2 or cluster.pid("server") == server:
            assert time.monotonic() < deadline, "the service was not restarted"
            time.sleep(0.2)
        cluster.raise_on_failure()
        (new_server, new_child) = _pids(tmp_path / "server.pids")[1]
        log = (tmp_path / "data" / "logs" / "cluster" / "server.log").exists()
        assert log
    assert _gone(new_server, 5) and _gone(new_child, 5), "stopped with the cluster"


TESTS = Path(__file__).parent
STARTER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pipeline.config import Settings
    from pipeline.cluster import LocalCluster
    sys.path.insert(0, sys.argv[3])
    from test_cluster_runner import _services
    folder, port = Path(sys.argv[1]), int(sys.argv[2])
    cluster = LocalCluster(Settings(data_dir=folder / "data"), services=_services(folder, port))
    with cluster.running(timeout=120):
        print("up", flush=True)
        import time
        time.sleep(3600)
    """
)


@pytest.mark.parametrize("how", ["ctrl-c", "kill -9"])
def test_nothing_is_left_when_the_runner_stops_or_is_killed(tmp_path, how):
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            STARTER,
            str(tmp_path),
            str(free_port()),
            str(Path(__file__).parent),
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert starter.stdout.readline().strip() == "up"
        tree = psutil.Process(starter.pid).children(recursive=True)
        assert len(tree) >= 4  # the guard, the server and its child, the client
        starter.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
        starter.wait(timeout=60)
        left = [process for process in tree if not _gone(process.pid, 45)]
        assert not left, [process.cmdline()[:3] for process in left]
    finally:
        if starter.poll() is None:
            os.killpg(starter.pid, signal.SIGKILL)


def test_a_first_start_of_postgres_that_fails_leaves_no_half_made_cluster(tmp_path, monkeypatch):
    """initdb runs in a staging folder renamed into place at the end: a failure leaves none."""
    from pipeline import cluster as runner

    monkeypatch.setattr(runner, "postgres_bin_dir", lambda: tmp_path / "no-such-bin")
    placement = Placement.local(Settings(data_dir=tmp_path / "data"))
    if postgres_user() is not None:
        (tmp_path / "data").mkdir()
        tmp_path.chmod(0o711)
    with (tmp_path / "log").open("wb") as output, pytest.raises((OSError, runner.ClusterError)):
        bootstrap_postgres(placement, output)
    assert not placement.postgres_data_dir.exists()
    assert not (placement.postgres_data_dir.parent / "initdb-password").exists(), "no password left"
