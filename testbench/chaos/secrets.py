"""Leaks: every secret searched for in every output (the loopback check: testbench/listeners.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path

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
