"""The one place where the pipeline's configuration lives.

Every value a deployment may change is read from an environment variable, with a default that
runs the whole pipeline on one laptop: a DuckDB file and a Parquet lake under ``data/``, the mock
APIs on 127.0.0.1, Spark in local mode. docker-compose.yml sets the same variables for the
distributed stack.

Secrets (the MailChimp key, the HubSpot token) default to the mock's development credentials, which
are not secret; point ``MAILCHIMP_BASE_URL`` / ``HUBSPOT_BASE_URL`` at the real APIs and set real
credentials to sync real accounts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The development credentials of the mock APIs: the product's defaults, which the mock accepts
# unless told otherwise (MOCK_MAILCHIMP_API_KEY, MOCK_HUBSPOT_TOKEN). They are not secrets: they
# only open the local mock. A MailChimp key ends in its data centre after the last '-', as real
# keys do (``...-us6``); HubSpot private-app tokens look like ``pat-na1-<uuid>``.
DEV_MAILCHIMP_API_KEY = "mockdev0mailchimp0key00000000000-us6"
DEV_HUBSPOT_TOKEN = "pat-na1-mockdev0-0000-0000-0000-hubspot00000"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """A snapshot of the configuration, read from the environment when created."""

    data_dir: Path = field(
        default_factory=lambda: Path(_env("PIPELINE_DATA_DIR", str(PROJECT_ROOT / "data")))
    )
    # The address every server the pipeline starts listens on (Airflow's API server and UI, the
    # mock APIs): loopback unless a user opens them to a network on purpose.
    bind_host: str = field(default_factory=lambda: _env("PIPELINE_BIND_HOST", "127.0.0.1"))
    # The mock APIs (a product feature: the default source of data).
    mock_host: str = field(
        default_factory=lambda: _env("MOCK_HOST", _env("PIPELINE_BIND_HOST", "127.0.0.1"))
    )
    mock_port: int = field(default_factory=lambda: _env_int("MOCK_PORT", 8765))
    mock_seed: int = field(default_factory=lambda: _env_int("MOCK_SEED", 42))
    mock_scale: int = field(default_factory=lambda: _env_int("MOCK_SCALE", 2000))
    # Share of records carrying a deliberate defect (the mess of real data); 0 for a clean world.
    mock_dirty_rate: str = field(default_factory=lambda: _env("MOCK_DIRTY_RATE", "0.02"))
    # Spark: local mode by default; spark://host:7077 on a cluster.
    spark_master: str = field(default_factory=lambda: _env("SPARK_MASTER", "local[*]"))
    # The driver's heap; in local mode the driver is also the only executor, so this is what the
    # lake's jobs have to sort and aggregate in (Spark's own default, 1g, spills at ~10 M events).
    spark_driver_memory: str = field(default_factory=lambda: _env("SPARK_DRIVER_MEMORY", "2g"))
    # When Airflow runs the pipeline on its own: a cron expression or preset, or "none" for
    # runs triggered by hand only.
    schedule: str | None = field(
        default_factory=lambda: (
            None
            if _env("PIPELINE_SCHEDULE", "@daily").lower() == "none"
            else _env("PIPELINE_SCHEDULE", "@daily")
        )
    )
    # Business rule: a deal counts for a campaign when created within this many days after a click.
    attribution_window_days: int = field(
        default_factory=lambda: _env_int("ATTRIBUTION_WINDOW_DAYS", 30)
    )

    @property
    def mock_url(self) -> str:
        return f"http://{self.mock_host}:{self.mock_port}"

    # --- sources ---------------------------------------------------------------------------------
    @property
    def mailchimp_api_key(self) -> str:
        return _env("MAILCHIMP_API_KEY", _env("MOCK_MAILCHIMP_API_KEY", DEV_MAILCHIMP_API_KEY))

    @property
    def mailchimp_base_url(self) -> str:
        return _env("MAILCHIMP_BASE_URL", f"{self.mock_url}/3.0")

    @property
    def hubspot_access_token(self) -> str:
        return _env("HUBSPOT_ACCESS_TOKEN", _env("MOCK_HUBSPOT_TOKEN", DEV_HUBSPOT_TOKEN))

    @property
    def hubspot_base_url(self) -> str:
        return _env("HUBSPOT_BASE_URL", self.mock_url)

    # --- warehouse -------------------------------------------------------------------------------
    @property
    def people_hash_key(self) -> str:
        """The key of the hash that identifies people in the marts instead of their email.

        The default is for development only: set PEOPLE_HASH_KEY to a secret in production, or
        anyone can recompute the hash of a known address.
        """
        return _env("PEOPLE_HASH_KEY", "dev-only-people-hash-key")

    # --- storage ---------------------------------------------------------------------------------
    @cached_property
    def warehouse_path(self) -> Path:
        return Path(_env("WAREHOUSE_PATH", str(self.data_dir / "warehouse.duckdb")))

    @cached_property
    def lake_root(self) -> Path:
        return Path(_env("LAKE_ROOT", str(self.data_dir / "lake")))

    @cached_property
    def state_dir(self) -> Path:
        """Airbyte state per source, written only after the destination committed it."""
        return self.data_dir / "state"

    @cached_property
    def runs_dir(self) -> Path:
        """One JSON log per pipeline run: step timings and row counts (read by the summary)."""
        return self.data_dir / "runs"

    @cached_property
    def quality_dir(self) -> Path:
        """Great Expectations' file context (suites, results, Data Docs)."""
        return self.data_dir / "quality"

    @cached_property
    def airflow_home(self) -> Path:
        return Path(_env("AIRFLOW_HOME", str(self.data_dir / "airflow")))

    dbt_project_dir: Path = PROJECT_ROOT / "dbt_project"
    dags_dir: Path = PROJECT_ROOT / "dags"


def get_settings() -> Settings:
    """Read the configuration from the environment now (cheap; call it where it is needed)."""
    return Settings()
