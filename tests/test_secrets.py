"""The installation's secrets (pipeline/secrets.py): generated once, owner-only, never shared."""

from __future__ import annotations

import json
import stat

import pytest

from pipeline import secrets, services
from pipeline.config import Settings, get_settings


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_secret_is_generated_once_and_kept_owner_only(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    first = secrets.secret(settings, "airflow-jwt-secret")
    assert len(first) >= 43, "32 random bytes, base64url"
    assert secrets.secret(settings, "airflow-jwt-secret") == first, "kept, not regenerated"
    folder = tmp_path / "data" / "secrets"
    assert _mode(folder) == 0o700
    assert _mode(folder / "airflow-jwt-secret") == 0o600
    assert (folder / "airflow-jwt-secret").read_text() == first


def test_a_wider_folder_or_file_is_narrowed(tmp_path):
    settings = Settings(data_dir=tmp_path)
    secrets.secret(settings, "airflow-api-secret-key")
    (tmp_path / "secrets").chmod(0o755)
    (tmp_path / "secrets" / "airflow-api-secret-key").chmod(0o644)
    secrets.secret(settings, "airflow-api-secret-key")
    assert _mode(tmp_path / "secrets") == 0o700
    assert _mode(tmp_path / "secrets" / "airflow-api-secret-key") == 0o600


def test_two_installations_get_different_secrets(tmp_path):
    one, two = Settings(data_dir=tmp_path / "one"), Settings(data_dir=tmp_path / "two")
    for name in ("airflow-jwt-secret", "airflow-api-secret-key", "airflow-admin-password"):
        assert secrets.secret(one, name) != secrets.secret(two, name), name
    assert secrets.airflow_passwords_file(one).read_text() != (
        secrets.airflow_passwords_file(two).read_text()
    )


def test_airflow_gets_this_installations_secrets_and_password_file(tmp_path):
    settings = Settings(data_dir=tmp_path)
    env = services.ui_env(settings, 8080)
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == secrets.secret(settings, "airflow-jwt-secret")
    assert env["AIRFLOW__API__SECRET_KEY"] == secrets.secret(settings, "airflow-api-secret-key")
    passwords = tmp_path / "secrets" / "airflow-passwords.json"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(passwords)
    assert json.loads(passwords.read_text()) == {
        "admin": secrets.secret(settings, "airflow-admin-password")
    }
    assert _mode(passwords) == 0o600
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"


def test_the_bind_host_is_one_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_BIND_HOST", "0.0.0.0")
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MOCK_HOST", raising=False)
    settings = get_settings()
    env = services.ui_env(settings, 8080)
    assert env["AIRFLOW__API__HOST"] == settings.mock_host == "0.0.0.0"
    # Clients on this machine still reach it on loopback.
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8080/execution/"


@pytest.mark.parametrize("name", ["", "../escape", "Upper", "a/b"])
def test_a_bad_secret_name_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match="secret name"):
        secrets.secret(Settings(data_dir=tmp_path), name)
