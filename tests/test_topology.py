"""One description of the production topology (pipeline/topology.py): docker-compose.yml is what it
writes, and the processes `make cluster` starts are the same services with the same commands,
environment, ports and health checks, placed on 127.0.0.1 instead of compose's network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.topology import (
    CONTAINER_PROJECT_DIR,
    Placement,
    Service,
    compose_document,
    compose_yaml,
    services,
)

LOCAL = Placement.local(Settings())
COMPOSE = Placement.compose()
NAMES = [service.name for service in services(COMPOSE)]

# What may differ between the placements, and why: only where a service runs.
LOCAL_ONLY_ENVIRONMENT = {
    # Spark's servers, executors and drivers on loopback (in a container they bind its interface).
    "SPARK_LOCAL_IP",
}
COMPOSE_ONLY_ENVIRONMENT = {
    # PostgreSQL's image creates the cluster from these; on this machine `initdb` does, with the
    # same user, database, password file and authentication (pipeline/cluster.py).
    "POSTGRES_USER",
    "POSTGRES_DB",
    "POSTGRES_PASSWORD_FILE",
    "POSTGRES_INITDB_ARGS",
    "POSTGRES_HOST_AUTH_METHOD",
}
# On this machine PostgreSQL gets its folder and no Unix socket (the image has its own).
LOCAL_ONLY_ARGUMENTS = {
    "postgres": ["-D", "<data>/postgres/cluster", "-c", "unix_socket_directories="]
}


def _normalized(text: str, placement: Placement) -> str:
    """A value with what only placement decides (host names, bind address, folders) replaced."""
    text = text.replace(str(placement.data_dir), "<data>")
    text = text.replace(str(placement.project_dir), "<project>")
    if placement.in_containers:
        text = text.replace("0.0.0.0", "<bind>")
        names = "|".join(re.escape(name) for name in NAMES)
        text = re.sub(rf"(?<=[/@])({names})(?=:)", "<host>", text)  # in URLs
    # Loopback: this machine, or (a health check) the service's own container.
    text = text.replace("127.0.0.1", "<host>")
    return text.replace("<bind>", "<host>")


def _words(words: tuple[str, ...], placement: Placement) -> list[str]:
    """Arguments normalized; the value of ``--host`` is where the service is reached."""
    return [
        "<host>" if before == "--host" else _normalized(word, placement)
        for before, word in zip(("", *words), words, strict=False)
    ]


def _shape(service: Service, placement: Placement) -> dict:
    normalize = lambda value: _normalized(str(value), placement)  # noqa: E731
    arguments = _words(service.command, placement)
    environment = {
        # A *_HOST variable names where a server is reached, or the address it binds.
        name: "<host>" if name.endswith("_HOST") else normalize(value)
        for name, value in service.environment.items()
    }
    if not placement.in_containers:
        extra = LOCAL_ONLY_ARGUMENTS.get(service.name, [])
        assert arguments[len(arguments) - len(extra) :] == extra
        arguments = arguments[: len(arguments) - len(extra)]
        environment = {k: v for k, v in environment.items() if k not in LOCAL_ONLY_ENVIRONMENT}
    else:
        environment = {k: v for k, v in environment.items() if k not in COMPOSE_ONLY_ENVIRONMENT}
    health = service.health
    return {
        "command": arguments,
        "steps": [_words(step, placement) for step in service.steps],
        "environment": environment,
        "ports": service.ports,
        "health": None
        if health is None
        else (health.port, health.path, _words(health.command, placement), health.interval),
        "depends_on": dict(service.depends_on),
        "stop_signal": service.stop_signal,
    }


def test_docker_compose_yml_is_what_the_topology_writes():
    written = (PROJECT_ROOT / "docker-compose.yml").read_text()
    assert written == compose_yaml(), "docker-compose.yml is stale: run `pipeline compose`"


def test_both_placements_run_the_same_services_in_the_same_order():
    assert [service.name for service in services(LOCAL)] == NAMES
    assert list(compose_document()["services"]) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_a_service_is_the_same_on_this_machine_and_in_compose(name):
    local = next(service for service in services(LOCAL) if service.name == name)
    composed = next(service for service in services(COMPOSE) if service.name == name)
    assert _shape(local, LOCAL) == _shape(composed, COMPOSE)


def test_the_placements_differ_where_they_must():
    local = {service.name: service for service in services(LOCAL)}
    composed = {service.name: service for service in services(COMPOSE)}
    # On this machine every server listens on loopback; in a container on its interface.
    assert "listen_addresses=127.0.0.1" in local["postgres"].command
    assert "listen_addresses=0.0.0.0" in composed["postgres"].command
    assert local["airflow-scheduler"].environment["SPARK_MASTER"] == "spark://127.0.0.1:7077"
    assert composed["airflow-scheduler"].environment["SPARK_MASTER"] == "spark://spark-master:7077"
    assert local["spark-worker-1"].environment["SPARK_LOCAL_IP"] == "127.0.0.1"
    assert str(PROJECT_ROOT / "dags") in local["airflow-scheduler"].environment.values()
    assert str(CONTAINER_PROJECT_DIR / "dags") in composed["airflow-scheduler"].environment.values()


def test_settings_move_the_local_topology():
    """Ports and the data folder come from the configuration (tests run it on free ports)."""
    settings = Settings(
        data_dir=Path("/srv/pipeline"),
        postgres_port=6001,
        airflow_api_port=6002,
        spark_master_port=6003,
        spark_ui_port=6004,
        mock_port=6010,
    )
    moved = {service.name: service for service in services(Placement.local(settings))}
    assert moved["postgres"].ports == (6001,)
    assert moved["airflow-apiserver"].ports == (6002,)
    assert moved["spark-master"].ports == (6003, 6004)
    assert moved["spark-worker-1"].ports == (6005,) and moved["spark-worker-2"].ports == (6006,)
    assert moved["mock-apis"].ports == (6010,)
    env = moved["airflow-scheduler"].environment
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@127.0.0.1:6001/airflow")
    assert env["SPARK_MASTER"] == "spark://127.0.0.1:6003"
    assert env["PGPASSFILE"] == "/srv/pipeline/secrets/pgpass"


def test_no_secret_is_written_into_the_description():
    """Passwords and signing keys are read from files when needed: neither a value nor a URL
    with a password appears in any service's command or environment."""
    for placement in (LOCAL, COMPOSE):
        for service in services(placement):
            values = [*service.command, *service.environment.values()]
            values += [word for step in service.steps for word in step]
            for value in values:
                assert not re.search(r"://[^/@\s]+:[^/@\s]+@", value), (service.name, value)
            for name, value in service.environment.items():
                if any(word in name for word in ("SECRET", "PASSWORD", "KEY", "TOKEN")):
                    assert value.startswith(("cat ", str(placement.secrets_dir))), name
