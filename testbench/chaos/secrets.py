"""Leaks: every secret searched for in every output; servers listening on loopback only."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Iterable
from pathlib import Path

import psutil

from testbench.chaos.mock import HUBSPOT_TOKEN, MAILCHIMP_API_KEY


def secret_forms(secrets: Iterable[str] = (MAILCHIMP_API_KEY, HUBSPOT_TOKEN)) -> list[bytes]:
    """Each secret as sent or as it could leak: raw, and inside an HTTP Basic header (base64)."""
    forms = []
    for secret in secrets:
        forms.append(secret.encode())
        forms.append(base64.b64encode(f"anystring:{secret}".encode()))
    return forms


def find_secrets(
    places: Iterable[Path], texts: Iterable[str] = (), secrets: Iterable[str] | None = None
) -> list[str]:
    """Where any form of any secret appears: files (folders searched whole) and texts.

    Returns ``["<file or text #n>: <first 6 characters of the secret>…"]``; empty is the goal.
    """
    forms = secret_forms() if secrets is None else secret_forms(secrets)
    found = []
    for place in places:
        files = [place] if place.is_file() else sorted(p for p in place.rglob("*") if p.is_file())
        for path in files:
            try:
                content = path.read_bytes()
            except OSError:
                continue
            found += [f"{path}: {form[:6].decode()}…" for form in forms if form in content]
    for index, text in enumerate(texts):
        content = text.encode(errors="replace")
        found += [f"output #{index}: {form[:6].decode()}…" for form in forms if form in content]
    return found


def is_loopback(ip: str) -> bool:
    """127.0.0.0/8, also as a Java socket reports it (an IPv6 socket on ::ffff:127.0.0.1)."""
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return isinstance(address, ipaddress.IPv4Address) and address.is_loopback


def non_loopback_listeners(pids: Iterable[int]) -> list[str]:
    """Listening sockets of these processes (and their children) not bound to 127.0.0.1."""
    bad = []
    for pid in pids:
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for process in processes:
            try:
                connections = process.net_connections(kind="inet")
            except psutil.Error:
                continue
            for connection in connections:
                if connection.status == psutil.CONN_LISTEN and not is_loopback(connection.laddr.ip):
                    address = f"{connection.laddr.ip}:{connection.laddr.port}"
                    bad.append(f"pid {process.pid} listens on {address}")
    return bad


def listening_ports(pid: int) -> list[str]:
    """``ip:port`` of the sockets a process listens on (for the report)."""
    try:
        connections = psutil.Process(pid).net_connections(kind="inet")
    except psutil.Error:
        return []
    return [f"{c.laddr.ip}:{c.laddr.port}" for c in connections if c.status == psutil.CONN_LISTEN]
