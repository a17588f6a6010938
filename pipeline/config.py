"""The one place where the pipeline's configuration lives, and the one place that reads it.

Every value a deployment may change is an environment variable, read here by
``Settings.from_env`` and nowhere else, with a default that runs the whole pipeline on one laptop:
a DuckDB file and a Parquet lake under ``data/``, the mock APIs on 127.0.0.1, Spark in local mode.
docker-compose.yml sets the same variables for the distributed stack.

The result is a frozen ``Settings``, passed down as an argument: the CLI builds one per command
(its options override the environment with ``dataclasses.replace``), each Airflow task builds one
in its own process. A child process (Airflow, dbt, spark-submit, a connector, the mock) gets an
environment built from it explicitly (``child_env``, ``to_env``, and the per-purpose builders of
``pipeline.dbt`` and ``pipeline.services``); no code hands a value to other code by writing
``os.environ``.

Secrets (the MailChimp key, the HubSpot token) default to the mock's development credentials, which
are not secret; point ``MAILCHIMP_BASE_URL`` / ``HUBSPOT_BASE_URL`` at the real APIs and set real
credentials to sync real accounts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The development credentials of the mock APIs: the product's defaults, which the mock accepts
# unless told otherwise (MOCK_MAILCHIMP_API_KEY, MOCK_HUBSPOT_TOKEN). They are not secrets: they
# only open the local mock. A MailChimp key ends in its data centre after the last '-', as real
# keys do (``...-us6``); HubSpot private-app tokens look like ``pat-na1-<uuid>``.
DEV_MAILCHIMP_API_KEY = "mockdev0mailchimp0key00000000000-us6"
DEV_HUBSPOT_TOKEN = "pat-na1-mockdev0-0000-0000-0000-hubspot00000"
# Google Sheets: the marketing team's spreadsheet (its id, as in its URL) and an OAuth client with a
# refresh token, shaped like Google's; the mock's service account is served by the mock itself.
DEV_GOOGLE_SPREADSHEET_ID = "1mockDevMarketingBudget0SpendAndTargets0000"
DEV_GOOGLE_CLIENT_ID = "100000000001-mockdev.apps.googleusercontent.com"
DEV_GOOGLE_CLIENT_SECRET = "GOCSPX-mockdev0google0client00000"
DEV_GOOGLE_REFRESH_TOKEN = "1//mockdev0google0refresh0token00000000"
# Development only: set PEOPLE_HASH_KEY to a secret in production, or anyone can recompute the
# hash of a known address (dbt_project/plugins/people_hash_key.py has the same default).
DEV_PEOPLE_HASH_KEY = "dev-only-people-hash-key"


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """The pipeline's configuration: what a deployment sets, and what follows from it.

    Fields hold the values; a ``custom_*`` field is None unless the deployment set it, and the
    property of the same name without the prefix gives the value in force (a location inside
    ``data_dir``, a source's base URL on the mock), so that ``dataclasses.replace`` of
    ``data_dir`` or of the mock's port moves what follows from them.
    """

    data_dir: Path = PROJECT_ROOT / "data"
    # The address every server the pipeline starts listens on (Airflow's API server and UI, the
    # mock APIs): loopback unless a user opens them to a network on purpose.
    bind_host: str = "127.0.0.1"
    # The mock APIs (a product feature: the default source of data).
    mock_host: str = "127.0.0.1"
    mock_port: int = 8765
    mock_seed: int = 42
    mock_scale: int = 2000
    # Share of records carrying a deliberate defect (the mess of real data); 0 for a clean world.
    mock_dirty_rate: float = 0.02
    # Spark: local mode by default; spark://host:7077 on a cluster.
    spark_master: str = "local[*]"
    # The driver's heap; in local mode the driver is also the only executor, so this is what the
    # lake's jobs have to sort and aggregate in (Spark's own default, 1g, spills at ~10 M events).
    spark_driver_memory: str = "2g"
    # --- the production topology on this machine (`pipeline cluster`, pipeline/topology.py) ----
    # PostgreSQL for Airflow's metadata (not 5432, where a system PostgreSQL usually listens),
    # Airflow's API server and UI, the Spark standalone master and its web UI (the two workers'
    # web UIs take the next two ports).
    postgres_port: int = 5433
    airflow_api_port: int = 8080
    dashboard_port: int = 3000  # make dashboard's static server
    spark_master_port: int = 7077
    spark_ui_port: int = 8081
    # When Airflow runs the pipeline on its own: a cron expression or preset, or None for runs
    # triggered by hand only (PIPELINE_SCHEDULE=none).
    schedule: str | None = "@daily"
    # Business rule: a deal counts for a campaign when created within this many days after a click.
    attribution_window_days: int = 30
    # --- sources (the credentials default to the mock's development ones) ---------------------
    mailchimp_api_key: str = field(default=DEV_MAILCHIMP_API_KEY, repr=False)
    hubspot_access_token: str = field(default=DEV_HUBSPOT_TOKEN, repr=False)
    custom_mailchimp_base_url: str | None = None
    custom_hubspot_base_url: str | None = None
    google_spreadsheet_id: str = DEV_GOOGLE_SPREADSHEET_ID
    google_client_id: str = DEV_GOOGLE_CLIENT_ID
    google_client_secret: str = field(default=DEV_GOOGLE_CLIENT_SECRET, repr=False)
    google_refresh_token: str = field(default=DEV_GOOGLE_REFRESH_TOKEN, repr=False)
    # A service account's key file (JSON text); when set, it is used instead of the OAuth client.
    google_service_account_json: str | None = field(default=None, repr=False)
    custom_google_sheets_base_url: str | None = None
    custom_google_token_uri: str | None = None
    # --- warehouse ------------------------------------------------------------------------------
    # The key of the hash that identifies people in the marts instead of their email.
    people_hash_key: str = field(default=DEV_PEOPLE_HASH_KEY, repr=False)
    # --- storage --------------------------------------------------------------------------------
    custom_warehouse_path: Path | None = None
    custom_lake_root: Path | None = None
    custom_airflow_home: Path | None = None
    # --- the project's own folders (not configurable) -------------------------------------------
    dbt_project_dir: Path = PROJECT_ROOT / "dbt_project"
    dags_dir: Path = PROJECT_ROOT / "dags"
    # The environment this configuration was read from: what every child process inherits
    # (PATH, HOME, JAVA_HOME, ...) under the variables built from the fields above.
    base_env: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({}), repr=False, compare=False
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read every variable the pipeline knows; a bad value raises ConfigError naming it."""
        read = _Reader(environ)
        schedule = read.text("PIPELINE_SCHEDULE", "@daily")
        bind_host = read.text("PIPELINE_BIND_HOST", "127.0.0.1")
        warehouse, lake, airflow_home = (
            read.optional(name) for name in ("WAREHOUSE_PATH", "LAKE_ROOT", "AIRFLOW_HOME")
        )
        return cls(
            data_dir=Path(read.text("PIPELINE_DATA_DIR", str(PROJECT_ROOT / "data"))),
            bind_host=bind_host,
            mock_host=read.text("MOCK_HOST", bind_host),
            mock_port=read.integer("MOCK_PORT", 8765),
            mock_seed=read.integer("MOCK_SEED", 42),
            mock_scale=read.integer("MOCK_SCALE", 2000),
            mock_dirty_rate=read.share("MOCK_DIRTY_RATE", 0.02),
            spark_master=read.text("SPARK_MASTER", "local[*]"),
            spark_driver_memory=read.text("SPARK_DRIVER_MEMORY", "2g"),
            postgres_port=read.integer("POSTGRES_PORT", 5433),
            airflow_api_port=read.integer("AIRFLOW_API_PORT", 8080),
            dashboard_port=read.integer("DASHBOARD_PORT", 3000),
            spark_master_port=read.integer("SPARK_MASTER_PORT", 7077),
            spark_ui_port=read.integer("SPARK_MASTER_WEBUI_PORT", 8081),
            schedule=None if schedule.lower() == "none" else schedule,
            attribution_window_days=read.integer("ATTRIBUTION_WINDOW_DAYS", 30),
            mailchimp_api_key=read.text(
                "MAILCHIMP_API_KEY", read.text("MOCK_MAILCHIMP_API_KEY", DEV_MAILCHIMP_API_KEY)
            ),
            hubspot_access_token=read.text(
                "HUBSPOT_ACCESS_TOKEN", read.text("MOCK_HUBSPOT_TOKEN", DEV_HUBSPOT_TOKEN)
            ),
            custom_mailchimp_base_url=read.optional("MAILCHIMP_BASE_URL"),
            custom_hubspot_base_url=read.optional("HUBSPOT_BASE_URL"),
            google_spreadsheet_id=read.text("GOOGLE_SPREADSHEET_ID", DEV_GOOGLE_SPREADSHEET_ID),
            google_client_id=read.text("GOOGLE_CLIENT_ID", DEV_GOOGLE_CLIENT_ID),
            google_client_secret=read.text("GOOGLE_CLIENT_SECRET", DEV_GOOGLE_CLIENT_SECRET),
            google_refresh_token=read.text("GOOGLE_REFRESH_TOKEN", DEV_GOOGLE_REFRESH_TOKEN),
            google_service_account_json=read.optional("GOOGLE_SERVICE_ACCOUNT_JSON"),
            custom_google_sheets_base_url=read.optional("GOOGLE_SHEETS_BASE_URL"),
            custom_google_token_uri=read.optional("GOOGLE_TOKEN_URI"),
            people_hash_key=read.text("PEOPLE_HASH_KEY", DEV_PEOPLE_HASH_KEY),
            custom_warehouse_path=Path(warehouse) if warehouse else None,
            custom_lake_root=Path(lake) if lake else None,
            custom_airflow_home=Path(airflow_home) if airflow_home else None,
            base_env=MappingProxyType(dict(environ)),
        )

    def to_env(self) -> dict[str, str]:
        """The variables that give a child process reading this module the same configuration:
        ``Settings.from_env(settings.to_env())`` equals ``settings``."""
        optional = {
            "MAILCHIMP_BASE_URL": self.custom_mailchimp_base_url,
            "HUBSPOT_BASE_URL": self.custom_hubspot_base_url,
            "GOOGLE_SERVICE_ACCOUNT_JSON": self.google_service_account_json,
            "GOOGLE_SHEETS_BASE_URL": self.custom_google_sheets_base_url,
            "GOOGLE_TOKEN_URI": self.custom_google_token_uri,
            "WAREHOUSE_PATH": self.custom_warehouse_path,
            "LAKE_ROOT": self.custom_lake_root,
            "AIRFLOW_HOME": self.custom_airflow_home,
        }
        return {
            "PIPELINE_DATA_DIR": str(self.data_dir),
            "PIPELINE_BIND_HOST": self.bind_host,
            "MOCK_HOST": self.mock_host,
            "MOCK_PORT": str(self.mock_port),
            "MOCK_SEED": str(self.mock_seed),
            "MOCK_SCALE": str(self.mock_scale),
            "MOCK_DIRTY_RATE": str(self.mock_dirty_rate),
            "SPARK_MASTER": self.spark_master,
            "SPARK_DRIVER_MEMORY": self.spark_driver_memory,
            "POSTGRES_PORT": str(self.postgres_port),
            "AIRFLOW_API_PORT": str(self.airflow_api_port),
            "DASHBOARD_PORT": str(self.dashboard_port),
            "SPARK_MASTER_PORT": str(self.spark_master_port),
            "SPARK_MASTER_WEBUI_PORT": str(self.spark_ui_port),
            "PIPELINE_SCHEDULE": self.schedule or "none",
            "ATTRIBUTION_WINDOW_DAYS": str(self.attribution_window_days),
            "MAILCHIMP_API_KEY": self.mailchimp_api_key,
            "HUBSPOT_ACCESS_TOKEN": self.hubspot_access_token,
            "GOOGLE_SPREADSHEET_ID": self.google_spreadsheet_id,
            "GOOGLE_CLIENT_ID": self.google_client_id,
            "GOOGLE_CLIENT_SECRET": self.google_client_secret,
            "GOOGLE_REFRESH_TOKEN": self.google_refresh_token,
            "PEOPLE_HASH_KEY": self.people_hash_key,
            **{name: str(value) for name, value in optional.items() if value is not None},
        }

    def child_env(self, **extra: str) -> dict[str, str]:
        """A child process's environment: the inherited one, this configuration, then ``extra``."""
        return {**self.base_env, **self.to_env(), **extra}

    @property
    def mock_url(self) -> str:
        return f"http://{self.mock_host}:{self.mock_port}"

    @property
    def mailchimp_base_url(self) -> str:
        return self.custom_mailchimp_base_url or f"{self.mock_url}/3.0"

    @property
    def hubspot_base_url(self) -> str:
        return self.custom_hubspot_base_url or self.mock_url

    @property
    def google_sheets_base_url(self) -> str:
        return self.custom_google_sheets_base_url or self.mock_url

    @property
    def google_token_uri(self) -> str:
        return self.custom_google_token_uri or f"{self.mock_url}/token"

    @property
    def warehouse_path(self) -> Path:
        return self.custom_warehouse_path or self.data_dir / "warehouse.duckdb"

    @property
    def lake_root(self) -> Path:
        return self.custom_lake_root or self.data_dir / "lake"

    @property
    def airflow_home(self) -> Path:
        return self.custom_airflow_home or self.data_dir / "airflow"

    @property
    def state_dir(self) -> Path:
        """Airbyte state per source, written only after the destination committed it."""
        return self.data_dir / "state"

    @property
    def runs_dir(self) -> Path:
        """One JSON log per pipeline run: step timings and row counts (read by the summary)."""
        return self.data_dir / "runs"

    @property
    def quality_dir(self) -> Path:
        """Great Expectations' file context (suites, results, Data Docs)."""
        return self.data_dir / "quality"

    @property
    def snapshots_dir(self) -> Path:
        """The marts as Parquet after each successful run (``current`` is the latest), for the
        dashboards: they never open the warehouse, which allows one writing process."""
        return self.data_dir / "snapshots"


class _Reader:
    """Reads variables from one environment: a blank value counts as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def optional(self, name: str) -> str | None:
        return self._environ.get(name, "").strip() or None

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def integer(self, name: str, default: int) -> int:
        raw = self.text(name, str(default))
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(
                f"environment variable {name} must be an integer, got {raw!r}"
            ) from None

    def share(self, name: str, default: float) -> float:
        raw = self.text(name, str(default))
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"environment variable {name} must be between 0 and 1, got {raw!r}")
        return value


def get_settings() -> Settings:
    """The configuration in this process's environment: the one read of ``os.environ``.

    Called once where a process starts its work (a CLI command, an Airflow task, the DAG file
    while it is parsed); everything below takes the result as an argument.
    """
    return Settings.from_env(os.environ)
