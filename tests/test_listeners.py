"""The loopback check itself (testbench/listeners.py), against real servers in child processes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import psutil
import pytest

from testbench.listeners import ListenerWatch, is_loopback

# A server on the address given, in a grandchild of the test: the watch must follow the tree.
SERVER = (
    "import socket, sys, time\n"
    "family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\n"
    "server = socket.socket(family)\n"
    "server.bind((sys.argv[1], 0))\n"
    "server.listen()\n"
    "print(server.getsockname()[1], flush=True)\n"
    "time.sleep(60)\n"
)
PARENT = "import subprocess, sys; subprocess.run([sys.executable, '-c', sys.argv[1], sys.argv[2]])"


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def _serve(host: str) -> tuple[subprocess.Popen, ListenerWatch, int]:
    """A parent process whose child listens on ``host``; watched from the parent's start."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, SERVER, host], stdout=subprocess.PIPE, text=True
    )
    watch = ListenerWatch(parent.pid, interval=0.1)
    watch.start()
    port = int(parent.stdout.readline())
    deadline = time.monotonic() + 10
    while not any(listener.port == port for listener in watch.seen):
        assert time.monotonic() < deadline, "the watch never saw the server's socket"
        time.sleep(0.05)
    return parent, watch, port


def _stop(parent: subprocess.Popen, watch: ListenerWatch) -> None:
    for child in psutil.Process(parent.pid).children(recursive=True):
        child.kill()
    parent.kill()
    parent.wait()
    parent.stdout.close()
    watch.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_server_on_every_interface_is_reported_with_its_process_and_address(host):
    if host == "::" and not _has_ipv6():
        pytest.skip("no IPv6 on this machine")
    parent, watch, port = _serve(host)
    try:
        (server,) = psutil.Process(parent.pid).children()
        (exposed,) = watch.exposed
        assert exposed.pid == server.pid, "the socket is the grandchild's"
        assert exposed.port == port and exposed.ip == host
        assert "python" in exposed.process
        with pytest.raises(AssertionError) as failure:
            watch.check()
        message = str(failure.value)
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        assert address in message and f"pid {server.pid}" in message and "python" in message
    finally:
        _stop(parent, watch)


def test_a_server_on_loopback_passes():
    parent, watch, port = _serve("127.0.0.1")
    try:
        assert watch.addresses() == {f"127.0.0.1:{port}"}
        assert watch.exposed == []
        watch.check()
    finally:
        _stop(parent, watch)


@pytest.mark.parametrize(
    ("ip", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # how a Java socket on 127.0.0.1 is reported
        ("0.0.0.0", False),
        ("::", False),
        ("::ffff:0.0.0.0", False),
        ("192.168.1.20", False),
        ("fe80::1%eth0", False),
    ],
)
def test_loopback_addresses(ip, loopback):
    assert is_loopback(ip) is loopback
