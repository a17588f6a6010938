"""airbyte-cdk's standard test suites (``airbyte_cdk.test.standard_tests``) for the three sources.

The suites read a connector's ``acceptance-test-config.yml`` and the config files it names
(``secrets/config.json``, ``integration_tests/invalid_config.json``). Nothing secret is
committed: each connector folder is copied into a temporary folder, where the configs are written
with the running mock's URL and test credentials. Every suite test runs in-process except the
Docker ones, which need a Docker engine (see below).
"""

import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[1]
# The suites mark tests `image_tests` and `requires_creds`; with --strict-markers pytest refuses
# to import them until pyproject.toml registers both markers (a change asked of its owner).
_INI = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
if not {"image_tests", "requires_creds"} <= {m.split(":")[0] for m in _INI.get("markers", [])}:
    pytest.skip(
        "register the markers image_tests and requires_creds in pyproject.toml",
        allow_module_level=True,
    )

from airbyte_cdk.test.standard_tests import SourceTestSuiteBase  # noqa: E402
from airbyte_cdk.test.standard_tests.pytest_hooks import pytest_generate_tests  # noqa: E402, F401
from source_google_sheets import SourceGoogleSheets  # noqa: E402
from source_hubspot import SourceHubspot  # noqa: E402
from source_mailchimp import SourceMailchimp  # noqa: E402

CONNECTORS = ROOT / "connectors"
# Made at import: the suites collect their scenarios from this folder before any fixture runs.
_COPIES = tempfile.TemporaryDirectory(prefix="standard-suites-")


def _connector_copy(name: str) -> Path:
    """The connector folder, copied to where its secrets may be written."""
    root = Path(_COPIES.name) / name
    shutil.copytree(
        CONNECTORS / name, root, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
    )
    return root


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document))
    path.chmod(0o600)


class _MockConfigured(SourceTestSuiteBase):
    """Writes the suite's config files for the mock before each test."""

    root: ClassVar[Path]

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return cls.root

    @staticmethod
    def configs(mock_api) -> tuple[dict[str, Any], dict[str, Any]]:
        """(a working config, a config that ``check`` must reject)."""
        raise NotImplementedError

    # The Docker tests build the connector's image and run it: no Docker engine runs on these
    # machines (see docs/contracts.md), so they are not collected. Everything else runs in-process.
    test_docker_image_build_and_spec = None
    test_docker_image_spec_backward_compatibility = None
    test_docker_image_build_and_check = None
    test_docker_image_build_and_config_matches_spec = None
    test_docker_image_build_and_discover = None
    test_docker_image_build_and_read = None

    @pytest.fixture(autouse=True)
    def _configs(self, mock_api) -> None:
        valid, invalid = self.configs(mock_api)
        _write(self.root / "secrets" / "config.json", valid)
        _write(self.root / "integration_tests" / "invalid_config.json", invalid)


class TestSourceMailchimp(_MockConfigured):
    connector = SourceMailchimp
    root = _connector_copy("source_mailchimp")

    @staticmethod
    def configs(mock_api) -> tuple[dict[str, Any], dict[str, Any]]:
        valid = {"apikey": mock_api.mailchimp_api_key, "base_url": mock_api.mailchimp_base_url}
        return valid, {**valid, "apikey": "0000invalid0000-us6"}


class TestSourceHubspot(_MockConfigured):
    connector = SourceHubspot
    root = _connector_copy("source_hubspot")

    @staticmethod
    def configs(mock_api) -> tuple[dict[str, Any], dict[str, Any]]:
        valid = {"access_token": mock_api.hubspot_token, "base_url": mock_api.hubspot_base_url}
        return valid, {**valid, "access_token": "pat-na1-invalid"}


class TestSourceGoogleSheets(_MockConfigured):
    connector = SourceGoogleSheets
    root = _connector_copy("source_google_sheets")

    @staticmethod
    def configs(mock_api) -> tuple[dict[str, Any], dict[str, Any]]:
        valid = mock_api.google_sheets_config(service_account=False)
        invalid = {**valid, "credentials": {**valid["credentials"], "refresh_token": "1//invalid"}}
        return valid, invalid
