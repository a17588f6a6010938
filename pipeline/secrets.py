"""The secrets the pipeline's servers sign or check with, one per installation.

Each is a random value made with :func:`secrets.token_urlsafe` the first time it is needed and kept
in ``<data dir>/secrets/<name>`` (the folder 0700, each file 0600), so two installations never
share one and no library's built-in default is ever used. Nothing here prints or logs a value;
the one a person needs, the Airflow admin's password, is read from its file (see ``pipeline up``).

Airflow's API secret key and JWT secret reach its components through the environment
(``AIRFLOW__API__SECRET_KEY``, ``AIRFLOW__API_AUTH__JWT_SECRET``, see pipeline/services.py), not
through ``airflow.cfg``; the simple auth manager reads its passwords file from here.
"""

from __future__ import annotations

import json
import os
import re
import secrets as random_tokens
from pathlib import Path

from pipeline.config import Settings

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
# 32 random bytes: 256 bits, as long as the HMAC-SHA256/512 keys they become.
_BYTES = 32

AIRFLOW_ADMIN = "admin"


def secrets_dir(settings: Settings) -> Path:
    """The owner-only folder that holds the installation's secrets (created 0700)."""
    folder = settings.data_dir / "secrets"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask, and an old folder may be wider
    return folder


def _write_new(path: Path, text: str) -> bool:
    """Create ``path`` with ``text``, readable by its owner only; False if it already exists."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    return True


def secret(settings: Settings, name: str) -> str:
    """The installation's secret ``name``, generated and stored on first use."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"secret name {name!r} must be lowercase letters, digits, '-' or '_'")
    path = secrets_dir(settings) / name
    # O_EXCL: of two processes starting at once, one writes and both read what it wrote.
    _write_new(path, random_tokens.token_urlsafe(_BYTES))
    os.chmod(path, 0o600)
    value = path.read_text().strip()
    if not value:
        raise ValueError(f"{path} is empty: delete it to generate a new secret")
    return value


def airflow_passwords_file(settings: Settings) -> Path:
    """The simple auth manager's passwords file: ``{"admin": <generated password>}``, 0600.

    Written before Airflow starts, so that Airflow never generates a password itself (it would
    print it into its log).
    """
    path = secrets_dir(settings) / "airflow-passwords.json"
    content = json.dumps({AIRFLOW_ADMIN: secret(settings, "airflow-admin-password")}) + "\n"
    if not _write_new(path, content) and path.read_text() != content:
        path.write_text(content)
    os.chmod(path, 0o600)
    return path
