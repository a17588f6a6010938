"""The production topology, described once: every service, its command, environment, ports and
health check, for two placements.

* **On this machine** (``pipeline cluster``, ``make cluster``, run by ``pipeline/cluster.py``): each
  service is a process group on 127.0.0.1, PostgreSQL from the operating system's packages with its
  data under ``data/postgres``, everything else from the project's environment.
* **In containers** (``docker-compose.yml``, written from here by ``pipeline compose``): each
  service is a container of the project's image (PostgreSQL's official image for the database) on
  compose's network, where a service is reached by its name and listens on every interface of its
  container; ports are published on the host's 127.0.0.1 only.

The two differ only where a placement must: host names and bind addresses, the project's folder,
how PostgreSQL's cluster is created (``initdb`` here, the image's entry point there).
tests/test_topology.py proves that docker-compose.yml is what this module writes, so the file and
the processes ``make cluster`` starts cannot drift apart.

The services (a one-shot job runs its steps in order and exits; the others run until stopped):

* ``secrets`` (one-shot): the installation's generated secrets under ``data/secrets`` (0600).
* ``postgres``: Airflow's metadata database, password authentication (SCRAM) with a generated
  password; Airflow finds the password in ``data/secrets/pgpass`` (libpq's password file), so it is
  in no URL, configuration file or environment.
* ``airflow-init`` (one-shot): ``airflow db migrate``, the DuckDB writers' one-slot pool, the dbt
  manifest the DAG renders one task per model from, the Spark event log's folder.
* ``mock-apis``: the sources.
* ``airflow-apiserver``, ``airflow-scheduler`` (LocalExecutor), ``airflow-dag-processor``,
  ``airflow-triggerer``: Airflow 3's components, each its own process (container).
* ``spark-master``, ``spark-worker-1``, ``spark-worker-2``: a Spark standalone cluster from
  PySpark's own launcher (``spark-class``), so cluster and driver run the same Spark. The lake
  step's ``spark-submit`` (in the scheduler's task processes) runs its driver there and its
  executors on the workers; Spark's event log (``data/logs/spark-events``) records which
  executor ran each task.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pipeline.config import PROJECT_ROOT, Settings

# Compose's depends_on conditions, which the local runner honours the same way.
STARTED, HEALTHY, COMPLETED = (
    "service_started",
    "service_healthy",
    "service_completed_successfully",
)
DB_NAME = DB_USER = "airflow"
WAREHOUSE_WRITER_POOL = "duckdb_writer"
POSTGRES_IMAGE = "postgres:15"  # the major version Debian bookworm's `postgresql` installs
PROJECT_IMAGE = "campaign-pipeline:local"
CONTAINER_PROJECT_DIR = Path("/opt/project")
SPARK_WORKERS = 2
# Each worker offers two task slots and 2 GB: on a laptop of two cores the four slots overlap a
# task's I/O with another's CPU, and two workers show tasks moving when one is lost.
SPARK_WORKER_CORES, SPARK_WORKER_MEMORY = 2, "2g"
# Airflow's LocalExecutor runs this many task processes at once (Airflow's default is 32).
AIRFLOW_PARALLELISM = 4
# A scheduler that died is declared dead after Airflow's 30 s health threshold, and its queued
# and running task instances are handed to the new scheduler at this interval (seconds; Airflow's
# default of 300 would leave a restarted scheduler's run idle for five minutes).
ORPHANED_TASKS_CHECK_INTERVAL = 15


@dataclass(frozen=True)
class HealthCheck:
    """A service is ready when an HTTP GET of ``path`` on ``port`` answers 2xx, or when
    ``command`` exits 0 (run beside the service: in its container under compose)."""

    port: int | None = None
    path: str = "/"
    command: tuple[str, ...] = ()
    interval: int = 5  # seconds between checks
    retries: int = 60


@dataclass(frozen=True)
class Service:
    """One service of the topology, as both placements run it."""

    name: str
    role: str  # what it is, in a few words (make cluster prints it)
    command: tuple[str, ...] = ()  # a long-running service's program and arguments
    steps: tuple[tuple[str, ...], ...] = ()  # a one-shot job's commands, run in order
    environment: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()  # where it listens (compose publishes them on 127.0.0.1)
    health: HealthCheck | None = None
    depends_on: Mapping[str, str] = field(default_factory=dict)  # service -> condition
    url: str | None = None  # where a person or a client finds it
    image: str | None = None  # None: the project's image
    stop_signal: str = "SIGTERM"
    # Folders of the data folder the service writes (compose mounts the whole data folder).
    volumes: tuple[str, ...] = ()

    @property
    def one_shot(self) -> bool:
        return bool(self.steps)


@dataclass(frozen=True)
class Placement:
    """Where the topology runs: on this machine, or in compose's containers.

    ``settings`` is the configuration every service is given, with what follows from the placement
    applied (the Spark master's URL, the mock's host, the data folder).
    """

    settings: Settings
    project_dir: Path
    in_containers: bool

    @classmethod
    def local(cls, settings: Settings) -> Placement:
        host = local_host(settings.bind_host)
        settings = replace(
            settings,
            data_dir=settings.data_dir.resolve(),
            mock_host=host,
            spark_master=f"spark://{host}:{settings.spark_master_port}",
        )
        return cls(settings, PROJECT_ROOT, in_containers=False)

    @classmethod
    def compose(cls) -> Placement:
        """The default configuration, in containers: hosts are service names, servers listen on
        every interface of their container, the project is at /opt/project."""
        defaults = Settings()
        settings = replace(
            defaults,
            data_dir=CONTAINER_PROJECT_DIR / "data",
            bind_host="0.0.0.0",
            mock_host="mock-apis",
            spark_master=f"spark://spark-master:{defaults.spark_master_port}",
            base_env=MappingProxyType({}),
        )
        return cls(settings, CONTAINER_PROJECT_DIR, in_containers=True)

    def host(self, service: str) -> str:
        """The address other services reach ``service`` at."""
        return service if self.in_containers else local_host(self.settings.bind_host)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def spark_events_dir(self) -> Path:
        return self.data_dir / "logs" / "spark-events"

    def spark_worker_dir(self, number: int) -> Path:
        return self.data_dir / "spark" / f"worker-{number}"

    @property
    def postgres_data_dir(self) -> Path:
        """The database cluster's folder (on this machine; the image keeps its own volume)."""
        return self.data_dir / "postgres" / "cluster"


def local_host(host: str) -> str:
    """The address a client on this machine uses for a server bound to ``host``."""
    return "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host


def http_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def airflow_db_url(placement: Placement) -> str:
    """Airflow's metadata DB: no password in it; libpq reads it from ``PGPASSFILE``."""
    host, port = placement.host("postgres"), placement.settings.postgres_port
    return f"postgresql+psycopg2://{DB_USER}@{host}:{port}/{DB_NAME}"


# The variables of the project's configuration (pipeline/config.py) that the topology sets; the
# rest (credentials, business rules) keep their defaults or come from the user's environment.
PROJECT_VARIABLES = (
    "PIPELINE_DATA_DIR",
    "PIPELINE_BIND_HOST",
    "PIPELINE_SCHEDULE",
    "MOCK_HOST",
    "MOCK_PORT",
    "MOCK_SEED",
    "MOCK_SCALE",
    "MOCK_DIRTY_RATE",
    "SPARK_MASTER",
)


def project_env(placement: Placement) -> dict[str, str]:
    values = placement.settings.to_env()
    env = {name: values[name] for name in PROJECT_VARIABLES}
    if not placement.in_containers:
        # Spark's servers, executors and drivers bind this address, web UIs included (without it
        # a Spark web UI listens on every interface).
        env["SPARK_LOCAL_IP"] = local_host(placement.settings.bind_host)
    return env


def spark_submit_options(placement: Placement) -> str:
    """Spark properties every driver on the cluster gets, as Java system properties
    (``SPARK_SUBMIT_OPTS``): the event log, uncompressed so that it reads as JSON lines, and
    shuffle partitions for the cluster's task slots rather than Spark's default of 200."""
    slots = SPARK_WORKERS * SPARK_WORKER_CORES
    return " ".join(
        [
            "-Dspark.eventLog.enabled=true",
            f"-Dspark.eventLog.dir=file://{placement.spark_events_dir}",
            "-Dspark.eventLog.compress=false",
            f"-Dspark.sql.shuffle.partitions={2 * slots}",
        ]
    )


def airflow_env(placement: Placement) -> dict[str, str]:
    """Airflow's configuration for every component: PostgreSQL, the LocalExecutor, simple auth,
    and the installation's secrets read from their files (``_CMD``), never held in a variable."""
    settings, secrets = placement.settings, placement.secrets_dir
    api_host, api_port = placement.host("airflow-apiserver"), settings.airflow_api_port
    from pipeline import dbt

    return {
        **project_env(placement),
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(placement.project_dir / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(AIRFLOW_PARALLELISM),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db_url(placement),
        "PGPASSFILE": str(secrets / "pgpass"),
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
            secrets / "airflow-passwords.json"
        ),
        "AIRFLOW__API__SECRET_KEY_CMD": f"cat {secrets / 'airflow-api-secret-key'}",
        "AIRFLOW__API_AUTH__JWT_SECRET_CMD": f"cat {secrets / 'airflow-jwt-secret'}",
        "AIRFLOW__API__HOST": settings.bind_host,
        "AIRFLOW__API__PORT": str(api_port),
        # Task processes report to the API server's execution API.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{http_url(api_host, api_port)}/execution/",
        "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": str(ORPHANED_TASKS_CHECK_INTERVAL),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": settings.bind_host,
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(dbt.cosmos_cache_dir(settings)),
        # The lake step's spark-submit runs in the scheduler's task processes.
        "SPARK_SUBMIT_OPTS": spark_submit_options(placement),
    }


def services(placement: Placement) -> list[Service]:
    """Every service of the topology, in an order that starts each after its dependencies."""
    settings = placement.settings
    bind = settings.bind_host
    project = project_env(placement)
    airflow = airflow_env(placement)
    api_port, master_port, ui_port = (
        settings.airflow_api_port,
        settings.spark_master_port,
        settings.spark_ui_port,
    )
    master_url = settings.spark_master
    airflow_ready = {"airflow-init": COMPLETED}
    # Health checks run beside the service: on 127.0.0.1 of its machine or container.
    here = "127.0.0.1" if placement.in_containers else local_host(bind)

    def airflow_job_check(job: str) -> HealthCheck:
        command = ("airflow", "jobs", "check", "--job-type", job, "--local")
        return HealthCheck(command=command, interval=30, retries=5)

    postgres_command = ["postgres", "-p", str(settings.postgres_port)]
    postgres_command += ["-c", f"listen_addresses={bind}"]
    if not placement.in_containers:
        # Its own folder, and TCP only: no Unix socket in a system folder it may not write.
        postgres_command += ["-D", str(placement.postgres_data_dir)]
        postgres_command += ["-c", "unix_socket_directories="]
    workers = [
        Service(
            name=f"spark-worker-{number}",
            role=f"Spark worker {number} ({SPARK_WORKER_CORES} cores, {SPARK_WORKER_MEMORY})",
            command=(
                "spark-class",
                "org.apache.spark.deploy.worker.Worker",
                master_url,
                "--host",
                placement.host(f"spark-worker-{number}"),
                "--cores",
                str(SPARK_WORKER_CORES),
                "--memory",
                SPARK_WORKER_MEMORY,
                "--webui-port",
                str(ui_port + number),
                "--work-dir",
                str(placement.spark_worker_dir(number)),
            ),
            environment=project,
            ports=(ui_port + number,),
            health=HealthCheck(port=ui_port + number),
            depends_on={"spark-master": HEALTHY},
            url=http_url(local_host(bind), ui_port + number),
            volumes=("data",),
        )
        for number in range(1, SPARK_WORKERS + 1)
    ]
    return [
        Service(
            name="secrets",
            role="generates the installation's secrets (data/secrets, owner only)",
            steps=(("pipeline", "secrets"),),
            environment=project,
            volumes=("data",),
        ),
        Service(
            name="postgres",
            role="PostgreSQL: Airflow's metadata database",
            command=tuple(postgres_command),
            environment=(
                {
                    # The official image's entry point creates the cluster from these.
                    "POSTGRES_USER": DB_USER,
                    "POSTGRES_DB": DB_NAME,
                    "POSTGRES_PASSWORD_FILE": str(placement.secrets_dir / "airflow-db-password"),
                    "POSTGRES_INITDB_ARGS": "--auth=scram-sha-256",
                    "POSTGRES_HOST_AUTH_METHOD": "scram-sha-256",
                }
                if placement.in_containers
                else {}
            ),
            ports=(settings.postgres_port,),
            health=HealthCheck(
                command=(
                    "pg_isready",
                    *("-h", here, "-p", str(settings.postgres_port)),
                    *("-U", DB_USER, "-d", DB_NAME),
                ),
                interval=2,
            ),
            depends_on={"secrets": COMPLETED},
            url=f"postgresql://{DB_USER}@{local_host(bind)}:{settings.postgres_port}/{DB_NAME}",
            image=POSTGRES_IMAGE,
            stop_signal="SIGINT",  # PostgreSQL's fast shutdown: SIGTERM waits for every client
        ),
        Service(
            name="airflow-init",
            role="migrates Airflow's database, sets the pool, writes the dbt manifest",
            steps=(
                ("airflow", "db", "migrate"),
                ("airflow", "pools", "set", WAREHOUSE_WRITER_POOL, "1", "DuckDB: one writer"),
                ("pipeline", "prepare", "--no-airflow", "--if-changed"),
                ("mkdir", "-p", str(placement.spark_events_dir)),
            ),
            environment=airflow,
            depends_on={"postgres": HEALTHY},
            volumes=("data",),
        ),
        Service(
            name="mock-apis",
            role="the mock MailChimp, HubSpot and Google Sheets APIs",
            command=(
                "mock-apis",
                "serve",
                *("--host", bind, "--port", str(settings.mock_port)),
                *("--seed", str(settings.mock_seed), "--scale", str(settings.mock_scale)),
                *("--dirty-rate", str(settings.mock_dirty_rate)),
            ),
            environment=project,
            ports=(settings.mock_port,),
            health=HealthCheck(port=settings.mock_port, path="/_mock/health"),
            url=http_url(local_host(bind), settings.mock_port),
        ),
        Service(
            name="spark-master",
            role="Spark standalone master",
            command=(
                "spark-class",
                "org.apache.spark.deploy.master.Master",
                *("--host", placement.host("spark-master"), "--port", str(master_port)),
                *("--webui-port", str(ui_port)),
            ),
            # Its REST submission server (port 6066) is not needed: spark-submit uses the RPC port.
            environment={**project, "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false"},
            ports=(master_port, ui_port),
            health=HealthCheck(port=ui_port, path="/json/"),
            url=f"{master_url} (web UI {http_url(local_host(bind), ui_port)})",
        ),
        *workers,
        Service(
            name="airflow-apiserver",
            role="Airflow's API server and UI",
            command=("airflow", "api-server", "--port", str(api_port)),
            environment=airflow,
            ports=(api_port,),
            health=HealthCheck(port=api_port, path="/api/v2/version"),
            depends_on=airflow_ready,
            url=http_url(local_host(bind), api_port),
            volumes=("data", "dags"),
        ),
        Service(
            name="airflow-scheduler",
            role=f"Airflow's scheduler (LocalExecutor, {AIRFLOW_PARALLELISM} task processes)",
            # No log server: it would bind every interface (Airflow has no option for its host);
            # the API server reads task logs from AIRFLOW_HOME/logs.
            command=("airflow", "scheduler", "--skip-serve-logs"),
            environment=airflow,
            health=airflow_job_check("SchedulerJob"),
            depends_on={
                **airflow_ready,
                "mock-apis": HEALTHY,
                **{worker.name: HEALTHY for worker in workers},
            },
            volumes=("data", "dags"),
        ),
        Service(
            name="airflow-dag-processor",
            role="Airflow's DAG processor",
            command=("airflow", "dag-processor"),
            environment=airflow,
            health=airflow_job_check("DagProcessorJob"),
            depends_on=airflow_ready,
            volumes=("data", "dags"),
        ),
        Service(
            name="airflow-triggerer",
            role="Airflow's triggerer",
            command=("airflow", "triggerer", "--skip-serve-logs"),
            environment=airflow,
            health=airflow_job_check("TriggererJob"),
            depends_on=airflow_ready,
            volumes=("data", "dags"),
        ),
    ]


# --- docker-compose.yml ---------------------------------------------------------------------------

COMPOSE_HEADER = """\
# Written by `pipeline compose` from pipeline/topology.py, the one description of the production
# topology that `make cluster` also runs (as processes on this machine): edit that module, then run
# `pipeline compose`; tests/test_topology.py fails when this file and the module disagree.
#
# Airflow 3 (api-server, scheduler, dag-processor, triggerer) on PostgreSQL with the
# LocalExecutor, the mock APIs, and a Spark standalone cluster (a master, two workers). Every
# service but PostgreSQL runs the one image built from docker/Dockerfile, so the code is the same
# code `make run` runs.
#
#   docker compose up --build        # then open http://127.0.0.1:8080 (see README.md)
#
# Ports are published on 127.0.0.1 only. The warehouse, the lake, the Airflow logs and the
# generated secrets live in the shared ./data folder, mounted at the same path in every container
# (Spark's executors read and write the lake there); the `secrets` job writes the secrets there
# first (the admin's password is in ./data/secrets/airflow-passwords.json).
"""


def compose_document(placement: Placement | None = None) -> dict[str, Any]:
    """docker-compose.yml as a mapping."""
    placement = placement or Placement.compose()
    project = placement.project_dir
    rendered: dict[str, Any] = {}
    for service in services(placement):
        entry: dict[str, Any] = {}
        if service.image:
            entry["image"] = service.image
            entry["volumes"] = [
                "postgres-db:/var/lib/postgresql/data",
                f"./data/secrets:{placement.secrets_dir}:ro",
            ]
        else:
            entry["image"] = PROJECT_IMAGE
            entry["build"] = {"context": ".", "dockerfile": "docker/Dockerfile"}
            entry["volumes"] = [f"./{name}:{project / name}" for name in service.volumes]
        if len(service.steps) == 1:
            entry["command"] = list(service.steps[0])
        elif service.steps:
            entry["command"] = ["bash", "-c", " && ".join(shlex.join(s) for s in service.steps)]
        else:
            entry["command"] = list(service.command)
            entry["restart"] = "unless-stopped"
        if service.environment:
            entry["environment"] = dict(service.environment)
        if service.ports:
            entry["ports"] = [f"127.0.0.1:{port}:{port}" for port in service.ports]
        if service.health is not None:
            entry["healthcheck"] = _compose_healthcheck(service.health)
        if service.depends_on:
            entry["depends_on"] = {
                name: {"condition": condition} for name, condition in service.depends_on.items()
            }
        if service.stop_signal != "SIGTERM":
            entry["stop_signal"] = service.stop_signal
        if not entry["volumes"]:
            del entry["volumes"]
        rendered[service.name] = entry
    return {"services": rendered, "volumes": {"postgres-db": {}}}


def _compose_healthcheck(health: HealthCheck) -> dict[str, Any]:
    if health.command:
        test = ["CMD", *health.command]
    else:
        test = ["CMD", "curl", "-fsS", f"http://127.0.0.1:{health.port}{health.path}"]
    return {"test": test, "interval": f"{health.interval}s", "retries": health.retries}


def compose_yaml(placement: Placement | None = None) -> str:
    """docker-compose.yml's text: the header, then the document (keys in the order written, a
    list of plain values on one line, as people write compose files)."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _list(dumper: yaml.SafeDumper, values: list) -> yaml.Node:
        flow = all(isinstance(value, str | int) for value in values) and len(values) > 1
        return dumper.represent_sequence("tag:yaml.org,2002:seq", values, flow_style=flow)

    _Dumper.add_representer(list, _list)
    body = yaml.dump(
        compose_document(placement), Dumper=_Dumper, sort_keys=False, width=100, indent=2
    )
    return COMPOSE_HEADER + "\n" + body
