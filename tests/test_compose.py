"""docker-compose.yml agrees with the code (no Docker engine here, so it is checked statically).

The file is written from pipeline/topology.py (tests/test_topology.py checks that it is current and
that `make cluster` runs the same services); these tests check what it says against the rest of
the project: programs, options, variables, mounts, the lake's path.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from pipeline.executables import console_script

PROJECT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PYPROJECT = tomllib.loads((PROJECT / "pyproject.toml").read_text())
CONSOLE_SCRIPTS = set(PYPROJECT["project"]["scripts"])
# Variables that tools read, not the project: libpq's password file, Spark's JVM options.
TOOL_VARIABLES = {"PGPASSFILE", "SPARK_SUBMIT_OPTS", "SPARK_MASTER_OPTS"}
AIRFLOW_COMMANDS = {"api-server", "scheduler", "dag-processor", "triggerer", "db", "pools", "jobs"}


def _command(service: dict) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else list(command)


def test_the_whole_stack_is_there():
    expected = {
        "postgres",
        "mock-apis",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "spark-master",
        "spark-worker-1",
        "spark-worker-2",
    }
    assert expected <= set(SERVICES)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_commands_run_programs_that_exist(name):
    command = _command(SERVICES[name])
    if not command:
        assert "image" in SERVICES[name], f"{name} has neither a command nor an image"
        return
    if "build" not in SERVICES[name]:  # another image (PostgreSQL's) runs its own program
        assert command[0] in SERVICES[name]["image"], name
        return
    program = command[0]
    if program == "bash":
        script = command[-1]
        for airflow_verb in re.findall(r"(?<![-\w])airflow (\S+)", script):
            assert airflow_verb in AIRFLOW_COMMANDS, airflow_verb
        for verb, options in re.findall(r"pipeline ([a-z-]+)((?: --[a-z-]+)*)", script):
            usage = subprocess.run(
                [console_script("pipeline"), verb, "--help"],
                capture_output=True,
                text=True,
            )
            assert usage.returncode == 0, f"pipeline {verb}: {usage.stderr}"
            for option in options.split():
                assert option in usage.stdout, f"pipeline {verb} has no {option}"
    elif program == "airflow":
        assert command[1] in AIRFLOW_COMMANDS
    elif program == "spark-class":
        # pyspark's own launcher: the master/worker classes of the same Spark the driver uses.
        assert command[1].startswith("org.apache.spark.deploy.")
    else:
        assert program in CONSOLE_SCRIPTS, f"{name}: {program} is not a console script"


def test_published_ports_are_loopback_only():
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_mock_port_matches_the_base_urls():
    from pipeline.config import Settings

    mock = SERVICES["mock-apis"]
    port = _command(mock)[_command(mock).index("--port") + 1]
    settings = Settings.from_env(SERVICES["airflow-scheduler"]["environment"])
    assert settings.mailchimp_base_url == f"http://mock-apis:{port}/3.0"
    assert settings.hubspot_base_url == f"http://mock-apis:{port}"
    assert settings.spark_master == "spark://spark-master:7077"
    assert "--port" in _command(SERVICES["spark-master"])


def test_environment_names_are_read_by_the_code():
    """Every project variable compose sets is one the configuration module reads."""
    code = (PROJECT / "pipeline" / "config.py").read_text()
    for name, service in SERVICES.items():
        for variable in service.get("environment", {}):
            if variable.startswith(("AIRFLOW", "POSTGRES_")) or variable in TOOL_VARIABLES:
                continue
            assert f'"{variable}"' in code, f"{name} sets {variable}, which nothing reads"


def test_mounted_paths_exist_and_match_the_image():
    dockerfile = (PROJECT / "docker" / "Dockerfile").read_text()
    assert "WORKDIR /opt/project" in dockerfile
    for name, service in SERVICES.items():
        build = service.get("build")
        if build:
            assert (PROJECT / build["context"] / build["dockerfile"]).exists(), name
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("./"):
                assert target.startswith("/opt/project/"), (name, volume)
                if not source.startswith("./data"):  # data/ is made by the first run
                    assert (PROJECT / source).exists(), (name, volume)


def test_airflow_runs_on_postgres_with_the_local_executor():
    env = SERVICES["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/project/dags"
    deploy = PYPROJECT["dependency-groups"]["deploy"]
    assert any(line.startswith("apache-airflow-providers-postgres") for line in deploy)
    for name in ("postgres", "mock-apis", "airflow-apiserver", "spark-master", "spark-worker-1"):
        assert "healthcheck" in SERVICES[name], name


def test_the_dag_submits_the_lake_to_the_cluster_which_sees_the_same_lake():
    """In compose, the lake step's spark-submit targets the standalone master, and its workers
    mount the lake at the path the driver (in the Airflow scheduler, LocalExecutor) gives them."""
    import datetime as dt

    from pipeline.config import Settings
    from pipeline.steps import spark_submit_command

    scheduler = SERVICES["airflow-scheduler"]
    environment = {variable: str(value) for variable, value in scheduler["environment"].items()}
    command = spark_submit_command(Settings.from_env(environment), dt.date(2026, 6, 1))

    master = command[command.index("--master") + 1]
    assert master == "spark://spark-master:7077"
    host, port = master.removeprefix("spark://").split(":")
    master_command = _command(SERVICES[host])
    assert master_command[master_command.index("--port") + 1] == port
    assert master in _command(SERVICES["spark-worker-1"])

    lake = command[command.index("--lake-root") + 1]
    for service in ("airflow-scheduler", "spark-worker-1"):
        mounts = {
            target: source
            for source, target in (v.split(":")[:2] for v in SERVICES[service]["volumes"])
        }
        assert any(lake.startswith(target + "/") for target in mounts), (service, lake, mounts)
        assert mounts.get("/opt/project/data") == "./data", service
    assert "openjdk-17" in (PROJECT / "docker" / "Dockerfile").read_text()  # the driver's JVM
