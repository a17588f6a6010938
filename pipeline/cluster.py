"""``pipeline cluster``: the production topology (pipeline/topology.py) run on this machine, without
Docker, as compose would run it.

Each service is a process group of its own, started once the services it depends on are started,
healthy or (a one-shot job) completed, exactly as compose's ``depends_on`` conditions say. Like a
container, a service is its whole process group: when its main process exits, what is left of the
group is killed, and the service is started again (compose's ``restart: unless-stopped``), so a
scheduler or a Spark worker that dies comes back. A service that keeps dying (five times within
ten minutes) stops the cluster with an error naming its log.

On Ctrl-C or SIGTERM the services stop in the reverse order of their dependencies (Airflow's
components before PostgreSQL); if this process is killed outright (``kill -9``), the guard
(pipeline/guard.py) stops every group it was told of. Nothing is left behind either way.

PostgreSQL comes from the operating system's packages (``postgres``, ``initdb``, ``pg_isready``):
its cluster is created under ``data/postgres`` on the first start (the password from
``data/secrets``, SCRAM authentication, TCP on 127.0.0.1 only). PostgreSQL refuses to run as root,
so under root it runs as the ``postgres`` user that the packages create (``nobody`` otherwise).

Each service logs to ``data/logs/cluster/<service>.log``.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

from pipeline import topology
from pipeline.config import Settings
from pipeline.executables import NotInstalledError, console_script
from pipeline.guard import group_guard
from pipeline.secrets import AIRFLOW_ADMIN, airflow_passwords_file, secret, secrets_dir
from pipeline.topology import COMPLETED, HEALTHY, Placement, Service

log = logging.getLogger(__name__)

DAG_ID = "campaign_pipeline"
POSTGRES_PROGRAMS = ("postgres", "initdb", "pg_isready")
RESTARTS_ALLOWED, RESTART_WINDOW = 5, 600.0
STOP_SECONDS = 30.0
INSTALL_POSTGRES = (
    "install PostgreSQL: `sudo apt-get install -y postgresql` (Debian/Ubuntu) or "
    "`brew install postgresql@16` (macOS); see README.md, `make cluster`"
)


class ClusterError(RuntimeError):
    """The cluster could not start, or a service failed; the message names the service's log."""


# --- secrets --------------------------------------------------------------------------------------


def write_secrets(settings: Settings) -> Path:
    """Every secret the topology needs, generated once per installation (pipeline/secrets.py):
    Airflow's signing keys and admin password, and the database password with libpq's password
    file for it (``pgpass``: host, port and database are any, the user is Airflow's)."""
    for name in ("airflow-api-secret-key", "airflow-jwt-secret"):
        secret(settings, name)
    airflow_passwords_file(settings)
    password = secret(settings, "airflow-db-password")
    pgpass = secrets_dir(settings) / "pgpass"
    line = f"*:*:*:{topology.DB_USER}:{password}\n"
    if not pgpass.exists() or pgpass.read_text() != line:
        descriptor = os.open(pgpass, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(line)
    os.chmod(pgpass, 0o600)  # libpq ignores a password file others can read
    return secrets_dir(settings)


# --- PostgreSQL from the operating system ---------------------------------------------------------


def postgres_bin_dir() -> Path:
    """The folder of PostgreSQL's server programs: beside ``postgres`` on PATH, else where
    Debian's packages (``/usr/lib/postgresql/<version>/bin``) or Homebrew put them."""
    on_path = shutil.which("postgres")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    for pattern in (
        "/usr/lib/postgresql/*/bin",
        "/opt/homebrew/opt/postgresql@*/bin",
        "/usr/local/opt/postgresql@*/bin",
    ):
        found = glob.glob(pattern)
        found.sort(key=lambda path: int("".join(c for c in Path(path).parent.name if c.isdigit())))
        candidates += [Path(path) for path in reversed(found)]
    for folder in candidates:
        if all((folder / program).exists() for program in POSTGRES_PROGRAMS):
            return folder
    raise ClusterError(f"PostgreSQL's server programs were not found: {INSTALL_POSTGRES}")


def postgres_user() -> pwd.struct_passwd | None:
    """Who PostgreSQL runs as: this user, or (PostgreSQL refuses root) the ``postgres`` user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with suppress(KeyError):
            return pwd.getpwnam(name)
    raise ClusterError("running as root, and there is no `postgres` user to run PostgreSQL as")


def _as_user(user: pwd.struct_passwd | None) -> dict[str, Any]:
    """``subprocess`` arguments that run a program as ``user`` (nothing for this user)."""
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def bootstrap_postgres(placement: Placement, output: IO[bytes]) -> bool:
    """Create the database cluster on the first start: ``initdb`` (SCRAM, the generated password,
    Airflow's user as its owner), then its database, in a folder renamed into place when done,
    so that a failed first start leaves nothing half made. False if it exists already."""
    cluster = placement.postgres_data_dir
    if (cluster / "PG_VERSION").exists():
        return False
    user = postgres_user()
    folder = cluster.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
        reach = subprocess.run(["test", "-w", str(folder)], **_as_user(user), check=False)
        if reach.returncode != 0:
            raise ClusterError(
                f"PostgreSQL runs as the user {user.pw_name!r} (it refuses root), who cannot "
                f"reach {folder}: let it through the parent folders (chmod o+x) or set "
                "PIPELINE_DATA_DIR to a folder it can reach"
            )
    staging = folder / "cluster.initdb"
    shutil.rmtree(staging, ignore_errors=True)
    bin_dir = postgres_bin_dir()
    password_file = folder / "initdb-password"
    descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret(placement.settings, "airflow-db-password") + "\n")
    if user is not None:
        os.chown(password_file, user.pw_uid, user.pw_gid)
    try:
        initdb = [
            str(bin_dir / "initdb"),
            *("-D", str(staging), "-U", topology.DB_USER, "--pwfile", str(password_file)),
            *("--auth=scram-sha-256", "--encoding=UTF8", "--no-locale"),
        ]
        _run_checked(initdb, output, "initdb", **_as_user(user))
    finally:
        password_file.unlink(missing_ok=True)
    # The database, in single-user mode: no server, no port, no password needed yet.
    create = [str(bin_dir / "postgres"), "--single", "-D", str(staging), "postgres"]
    statement = f"CREATE DATABASE {topology.DB_NAME} OWNER {topology.DB_USER};\n".encode()
    _run_checked(create, output, "CREATE DATABASE", input=statement, **_as_user(user))
    staging.rename(cluster)
    return True


def _run_checked(command: list[str], output: IO[bytes], what: str, **options: Any) -> None:
    done = subprocess.run(
        command,
        stdout=output,
        stderr=subprocess.STDOUT,
        check=False,
        env=_postgres_env(),
        **options,
    )
    if done.returncode != 0:
        code = done.returncode
        raise ClusterError(f"PostgreSQL's {what} failed (exit {code}); see {output.name}")


def _postgres_env() -> dict[str, str]:
    """PostgreSQL's programs get a bare environment: none of the pipeline's credentials."""
    return {"PATH": os.defpath, "LC_ALL": "C"}


# --- the local runner -----------------------------------------------------------------------------


@dataclass
class _Running:
    """A service's state in the runner."""

    service: Service
    process: subprocess.Popen | None = None
    step: int = 0  # a one-shot job's current step
    done: bool = False  # a one-shot job that completed
    healthy: bool = False
    started: float = 0.0  # when its current process started (monotonic)
    last_check: float = 0.0
    restarts: list[float] = field(default_factory=list)
    log_file: Path | None = None


class LocalCluster:
    """The topology's services as process groups on this machine."""

    def __init__(
        self,
        settings: Settings,
        say: Callable[[str], None] = log.info,
        services: list[Service] | None = None,
    ) -> None:
        """``services``: the topology's (None), or others run the same way (the runner's tests)."""
        self.placement = Placement.local(settings)
        self.settings = self.placement.settings
        self.say = say
        self.services = topology.services(self.placement) if services is None else services
        self.state = {service.name: _Running(service) for service in self.services}
        self.log_dir = self.settings.data_dir / "logs" / "cluster"
        self.failure: str | None = None
        self._watch: Callable[[int], None] = lambda pgid: None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        # Someone waits on these being healthy; the API server is what a person opens.
        self._awaited = {
            name
            for service in self.services
            for name, condition in service.depends_on.items()
            if condition == HEALTHY
        } | {"airflow-apiserver"}

    # -- programs and environments --

    def _argv(self, command: tuple[str, ...]) -> list[str]:
        program, *arguments = command
        if program in POSTGRES_PROGRAMS:
            return [str(postgres_bin_dir() / program), *arguments]
        try:
            return [console_script(program), *arguments]
        except NotInstalledError as error:
            raise ClusterError(str(error)) from None

    def _env(self, service: Service) -> dict[str, str]:
        if service.name == "postgres":
            return _postgres_env()
        venv_bin = str(Path(console_script("pipeline")).parent)
        path = os.pathsep.join([venv_bin, self.settings.base_env.get("PATH", os.defpath)])
        return {**self.settings.child_env(), "PATH": path, **service.environment}

    # -- starting --

    def _start(self, running: _Running, command: tuple[str, ...]) -> None:
        service = running.service
        running.log_file = self.log_dir / f"{service.name}.log"
        user = postgres_user() if service.name == "postgres" else None
        with running.log_file.open("ab") as output:
            if service.name == "postgres" and bootstrap_postgres(self.placement, output):
                created = self.placement.postgres_data_dir
                self.say(f"PostgreSQL: created the database cluster {created}")
            running.process = subprocess.Popen(
                self._argv(command),
                env=self._env(service),
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stopped (or killed) as a whole
                cwd=self.settings.data_dir,
                **_as_user(user),
            )
        self._watch(running.process.pid)
        running.healthy, running.started, running.last_check = False, time.monotonic(), 0.0

    def _ready_to_start(self, service: Service) -> bool:
        for name, condition in service.depends_on.items():
            other = self.state[name]
            if condition == COMPLETED and not other.done:
                return False
            if condition == HEALTHY and not other.healthy:
                return False
            if other.process is None and not other.done:
                return False
        return True

    # -- one pass of the supervisor --

    def _tick(self) -> None:
        for running in self.state.values():
            service = running.service
            if self._stopping.is_set():
                return
            if running.process is None and not running.done:
                if self._ready_to_start(service):
                    first = service.steps[0] if service.one_shot else service.command
                    self._start(running, first)
                continue
            if running.done:
                continue
            code = running.process.poll()
            if service.one_shot:
                if code is None:
                    continue
                if code != 0:
                    step = " ".join(service.steps[running.step])
                    self._fail(f"{service.name}: `{step}` exited with {code}", running)
                    return
                running.step += 1
                if running.step == len(service.steps):
                    running.done, running.process = True, None
                    self.say(f"{service.name}: done")
                else:
                    self._start(running, service.steps[running.step])
                continue
            if code is not None:
                self._restart(running, code)
                continue
            self._check_health(running)

    def _check_health(self, running: _Running) -> None:
        """Mark a started service healthy: at once if nothing waits on its health check."""
        service, now = running.service, time.monotonic()
        if running.healthy:
            return
        if service.health is None or service.name not in self._awaited:
            running.healthy = True
            return
        if now - running.last_check < min(service.health.interval, 2):
            return
        running.last_check = now
        if self._healthy(service):
            running.healthy = True
            self.say(f"{service.name}: ready")
        elif now - running.started > service.health.interval * service.health.retries:
            self._fail(f"{service.name} did not become healthy", running)

    def _healthy(self, service: Service) -> bool:
        health = service.health
        assert health is not None
        if health.port is not None:
            host = topology.local_host(self.settings.bind_host)
            try:
                answer = requests.get(topology.http_url(host, health.port) + health.path, timeout=3)
            except requests.RequestException:
                return False
            return answer.ok
        try:
            done = subprocess.run(
                self._argv(health.command),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=self._env(service),
                timeout=60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    def _restart(self, running: _Running, code: int) -> None:
        """A container's main process exited: the rest of its group goes too, then it restarts."""
        name = running.service.name
        _signal_group(running.process.pid, signal.SIGKILL)
        now = time.monotonic()
        running.restarts = [t for t in running.restarts if now - t < RESTART_WINDOW] + [now]
        if len(running.restarts) > RESTARTS_ALLOWED:
            self._fail(f"{name} exited {len(running.restarts)} times in ten minutes", running)
            return
        self.say(f"{name}: exited with {code}; restarting (log {running.log_file})")
        self._start(running, running.service.command)

    def _fail(self, why: str, running: _Running) -> None:
        self.failure = f"{why}; see {running.log_file}"
        self._stopping.set()

    # -- the whole life --

    def start(self, timeout: float = 900) -> None:
        """Start every service; return when all run and the awaited ones are healthy."""
        self.log_dir.mkdir(parents=True, exist_ok=True)  # and the data folder, the services' cwd
        deadline = time.monotonic() + timeout
        while not self._stopping.is_set():
            with self._lock:
                self._tick()
            if self.ready:
                break
            if time.monotonic() > deadline:
                waiting = [name for name, r in self.state.items() if not (r.done or r.healthy)]
                raise ClusterError(f"the cluster did not start within {timeout:.0f}s: {waiting}")
            time.sleep(0.5)
        self.raise_on_failure()
        self._supervisor = threading.Thread(target=self._supervise, name="cluster", daemon=True)
        self._supervisor.start()

    @property
    def ready(self) -> bool:
        return all(
            running.done or (running.process is not None and running.healthy)
            for running in self.state.values()
        )

    def _supervise(self) -> None:
        while not self._stopping.wait(1.0):
            with self._lock:
                self._tick()

    def raise_on_failure(self) -> None:
        if self.failure is not None:
            raise ClusterError(self.failure)

    def pid(self, name: str) -> int | None:
        """The main process of service ``name`` now (tests kill it to see it come back)."""
        process = self.state[name].process
        return None if process is None else process.pid

    def stop(self) -> None:
        """Stop every service, the dependents first; SIGKILL what is left after STOP_SECONDS."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=30)
        with self._lock:
            for level in reversed(_levels(self.services)):
                stopping = [
                    self.state[name]
                    for name in level
                    if self.state[name].process is not None
                    and self.state[name].process.poll() is None
                ]
                for running in stopping:
                    number = getattr(signal, running.service.stop_signal)
                    _signal_group(running.process.pid, number)
                deadline = time.monotonic() + STOP_SECONDS
                for running in stopping:
                    with suppress(subprocess.TimeoutExpired):
                        running.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                for running in stopping:  # the group's other processes, and a late main one
                    _signal_group(running.process.pid, signal.SIGKILL)
                    running.process.wait()

    @contextmanager
    def running(self, timeout: float = 900) -> Iterator[LocalCluster]:
        with group_guard() as watch:
            self._watch = watch
            try:
                self.start(timeout)
                yield self
            finally:
                self.stop()

    def where(self) -> list[tuple[str, str, str]]:
        """(service, what it is, where) for every long-running service."""
        return [
            (service.name, service.role, service.url or "")
            for service in self.services
            if not service.one_shot
        ]


def _levels(services: list[Service]) -> list[list[str]]:
    """Service names by depth in the dependency graph: each level needs only earlier ones."""
    depth: dict[str, int] = {}
    for service in services:  # listed after their dependencies
        depth[service.name] = 1 + max((depth[name] for name in service.depends_on), default=-1)
    levels: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for name, level in depth.items():
        levels[level].append(name)
    return levels


def _signal_group(pgid: int, number: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, number)


# --- Airflow's REST API ---------------------------------------------------------------------------


class AirflowApi:
    """The calls a person's browser makes to Airflow's API server: log in as the generated admin,
    unpause the DAG, trigger a run, watch it. A refused or timed-out request while Airflow is busy
    is retried until the caller's deadline."""

    def __init__(self, settings: Settings) -> None:
        host = topology.local_host(settings.bind_host)
        self.url = topology.http_url(host, settings.airflow_api_port)
        self.session = requests.Session()
        password = secret(settings, "airflow-admin-password")
        answer = self.session.post(
            f"{self.url}/auth/token",
            json={"username": AIRFLOW_ADMIN, "password": password},
            timeout=30,
        )
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def get(self, path: str, **params: Any) -> Any:
        answer = self.session.get(f"{self.url}/api/v2{path}", params=params, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def wait(self, check: Callable[[], Any], seconds: float, what: str) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with suppress(requests.RequestException):
                result = check()
                if result:
                    return result
            time.sleep(2)
        raise ClusterError(f"timed out after {seconds:.0f}s waiting for {what}")

    def trigger(self, run_id: str, conf: dict[str, Any], dag_id: str = DAG_ID) -> str:
        """Unpause the DAG once parsed, trigger a run, and return its id."""
        self.wait(lambda: self.get(f"/dags/{dag_id}"), 300, f"the DAG {dag_id} to be parsed")
        self.session.patch(
            f"{self.url}/api/v2/dags/{dag_id}", json={"is_paused": False}, timeout=30
        ).raise_for_status()
        answer = self.session.post(
            f"{self.url}/api/v2/dags/{dag_id}/dagRuns",
            json={"dag_run_id": run_id, "logical_date": None, "conf": conf},
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()["dag_run_id"]

    def wait_for_run(self, run_id: str, seconds: float, dag_id: str = DAG_ID) -> str:
        """The run's final state (``success`` or ``failed``)."""

        def finished() -> str | None:
            state = self.get(f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
            return state if state in {"success", "failed"} else None

        return self.wait(finished, seconds, f"the run {run_id}")

    def task_instances(self, run_id: str, dag_id: str = DAG_ID) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)[
            "task_instances"
        ]
