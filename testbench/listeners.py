"""The one check that the pipeline's servers listen on loopback only.

While a verb runs (``pipeline run``, ``pipeline up``, ...), :class:`ListenerWatch` samples every
listening TCP socket of every process in its tree (the process it started, its children, theirs,
and any process once seen in the tree, even after its parent exited) until it is stopped. A
socket on any address but 127.0.0.0/8 or ::1 is *exposed*; :meth:`ListenerWatch.check` fails
naming each one's process and address::

    with ListenerWatch(process.pid) as watch:
        process.wait()
    watch.check()

The end-to-end tests (tests/test_pipeline_end_to_end.py) and the chaos suite's loopback scenarios
use it; tests/test_listeners.py tests it against real servers.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass

import psutil


def is_loopback(ip: str) -> bool:
    """127.0.0.0/8 or ::1, also as a Java socket reports IPv4 (``::ffff:127.0.0.1``)."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


@dataclass(frozen=True)
class Listener:
    """A listening socket and the process that holds it."""

    pid: int
    process: str  # the process's name and the start of its command line
    ip: str
    port: int

    @property
    def address(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"

    @property
    def on_loopback(self) -> bool:
        return is_loopback(self.ip)

    def __str__(self) -> str:
        return f"{self.process} (pid {self.pid}) listens on {self.address}"


def _describe(process: psutil.Process) -> str:
    try:
        name = process.name()
        command = " ".join(" ".join(process.cmdline()[:4]).split())  # a set title pads with spaces
    except psutil.Error:
        return "an exited process"
    if not command or command.startswith(name):  # a process that set its title shows it whole
        return command[:120] or name
    return f"{name} [{command[:120]}]"


class ListenerWatch:
    """Every listening socket of a process tree, sampled in a thread until stopped."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        self.interval = interval
        self.seen: set[Listener] = set()
        self._root = psutil.Process(pid)
        self._tree: dict[int, psutil.Process] = {pid: self._root}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="listener-watch", daemon=True)
        self._samples = 0

    def __enter__(self) -> ListenerWatch:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling, after one last sample."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()
        self.sample()

    def _members(self) -> dict[int, psutil.Process]:
        """The tree now, plus every process seen in it before that still runs (orphans too)."""
        for known in list(self._tree.values()):
            try:
                children = known.children(recursive=True)
            except psutil.Error:  # exited
                continue
            for child in children:
                self._tree.setdefault(child.pid, child)
        alive = {}
        for pid, process in self._tree.items():
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    alive[pid] = process
            except psutil.Error:
                continue
        return alive

    def sample(self) -> None:
        """Record the listening sockets the tree holds now."""
        members = self._members()
        self._samples += 1
        if not members:
            return
        # One scan of the system's sockets per sample, kept for the tree's processes.
        for connection in psutil.net_connections(kind="tcp"):
            if connection.status != psutil.CONN_LISTEN or connection.pid not in members:
                continue
            process = members[connection.pid]
            self.seen.add(
                Listener(
                    connection.pid, _describe(process), connection.laddr.ip, connection.laddr.port
                )
            )

    @property
    def samples(self) -> int:
        return self._samples

    @property
    def exposed(self) -> list[Listener]:
        """The sockets seen on an address other than loopback, sorted."""
        return sorted(
            (listener for listener in self.seen if not listener.on_loopback),
            key=lambda listener: (listener.port, listener.ip, listener.pid),
        )

    def addresses(self) -> set[str]:
        """``ip:port`` of every socket seen (for reports)."""
        return {listener.address for listener in self.seen}

    def check(self) -> None:
        """Fail naming every socket seen off loopback."""
        exposed = self.exposed
        assert not exposed, "listening off loopback: " + "; ".join(map(str, exposed))
