"""``mock-apis``: serve the mock APIs, or print the ground truth of a world without a server."""

import urllib.error
import urllib.request
from typing import Annotated

import orjson
import typer

from testbench.mock_apis.dirty import DEFAULT_DIRTY_RATE
from testbench.mock_apis.google_sheets_routes import DEFAULT_GOOGLE_READ_QUOTA
from testbench.mock_apis.rate_limits import DEFAULT_HUBSPOT_BURST, DEFAULT_HUBSPOT_SEARCH_RATE
from testbench.mock_apis.truth import DEFAULT_ATTRIBUTION_WINDOW_DAYS, truth
from testbench.mock_apis.world import World

app = typer.Typer(
    help="Mock MailChimp v3, HubSpot CRM v3 and Google Sheets v4 APIs over a deterministic"
    " synthetic world (`mock-apis serve` to serve it).",
    add_completion=False,
    no_args_is_help=True,
)

Host = Annotated[
    str, typer.Option(envvar="MOCK_HOST", help="Interface to bind (loopback by default).")
]
Port = Annotated[int, typer.Option(envvar="MOCK_PORT", help="TCP port.")]
Seed = Annotated[
    int,
    typer.Option(envvar="MOCK_SEED", min=0, max=2**63 - 1, help="Seed of the synthetic world."),
]
Scale = Annotated[
    int, typer.Option(envvar="MOCK_SCALE", min=1, help="People in the world at the default now.")
]
DaysAdvanced = Annotated[
    int, typer.Option(min=0, help="Move the simulated now this many days past the anchor.")
]


DirtyRate = Annotated[
    float,
    typer.Option(
        envvar="MOCK_DIRTY_RATE",
        min=0.0,
        max=1.0,
        help="Share of records carrying a deliberate defect (0 for clean data).",
    ),
]
HubSpotBurst = Annotated[
    int,
    typer.Option(
        envvar="MOCK_HUBSPOT_BURST", min=1, help="HubSpot requests allowed per rolling 10 s."
    ),
]
FaultsOption = Annotated[
    str,
    typer.Option(
        "--faults",
        envvar="MOCK_FAULTS",
        help="Fault scenarios, comma-separated (outage,server_error:rate=0.2); off by default. "
        "See mock_apis/README.md.",
    ),
]
FaultsSeed = Annotated[
    int, typer.Option(envvar="MOCK_FAULTS_SEED", min=0, help="Seed of the fault scenarios' draws.")
]
GoogleReadQuota = Annotated[
    int,
    typer.Option(
        envvar="MOCK_GOOGLE_READ_QUOTA",
        min=1,
        help="Google Sheets read requests allowed per minute per user.",
    ),
]
HubSpotSearchRate = Annotated[
    int,
    typer.Option(
        envvar="MOCK_HUBSPOT_SEARCH_RATE", min=1, help="HubSpot search requests allowed per second."
    ),
]


def _serve(
    host: str,
    port: int,
    world: World,
    hubspot_burst: int,
    hubspot_search_rate: int,
    faults: str = "",
    faults_seed: int = 0,
    google_read_quota: int = DEFAULT_GOOGLE_READ_QUOTA,
) -> None:
    import uvicorn  # only the serving path needs it

    from testbench.mock_apis.faults import Faults
    from testbench.mock_apis.google_sheets_routes import GoogleAuth
    from testbench.mock_apis.rate_limits import HubSpotLimits
    from testbench.mock_apis.server import create_app

    try:
        fault_mode = Faults.from_specs(faults, faults_seed)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--faults") from None
    limits = HubSpotLimits(burst=hubspot_burst, search_rate=hubspot_search_rate)
    with_faults = f", faults={faults} seed {faults_seed}" if fault_mode.scenarios else ""
    print(
        f"mock-apis serving http://{host}:{port} "
        f"(seed={world.seed}, scale={world.scale}{with_faults})",
        flush=True,
    )
    # Quiet: no access log (it would print every request), warnings and errors only.
    uvicorn.run(
        create_app(world, limits, fault_mode, GoogleAuth(read_quota=google_read_quota)),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8765,
    seed: Seed = 42,
    scale: Scale = 2000,
    days_advanced: DaysAdvanced = 0,
    dirty_rate: DirtyRate = DEFAULT_DIRTY_RATE,
    hubspot_burst: HubSpotBurst = DEFAULT_HUBSPOT_BURST,
    hubspot_search_rate: HubSpotSearchRate = DEFAULT_HUBSPOT_SEARCH_RATE,
    faults: FaultsOption = "",
    faults_seed: FaultsSeed = 0,
    google_read_quota: GoogleReadQuota = DEFAULT_GOOGLE_READ_QUOTA,
) -> None:
    """Serve the mock APIs until interrupted."""
    world = World(seed, scale, days_advanced, dirty_rate)
    _serve(
        host,
        port,
        world,
        hubspot_burst,
        hubspot_search_rate,
        faults,
        faults_seed,
        google_read_quota,
    )


@app.command("truth")
def print_truth(
    seed: Seed = 42,
    scale: Scale = 2000,
    days_advanced: DaysAdvanced = 0,
    dirty_rate: DirtyRate = DEFAULT_DIRTY_RATE,
    attribution_window_days: int = DEFAULT_ATTRIBUTION_WINDOW_DAYS,
    keys: Annotated[bool, typer.Option(help="Include the primary keys of every stream.")] = False,
) -> None:
    """Print the ground truth of a world as JSON."""
    world = World(seed, scale, days_advanced, dirty_rate)
    document = truth(world, attribution_window_days, keys)
    typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


@app.command("advance")
def advance_clock(
    days: Annotated[int, typer.Option(min=1, help="Days to move the simulated now forward.")] = 1,
    url: Annotated[
        str, typer.Option(envvar="MOCK_URL", help="The running mock server.")
    ] = "http://127.0.0.1:8765",
) -> None:
    """Move a running server's simulated now forward (new people, campaigns, activity, deals)."""
    from pipeline.services import ServiceError, advance_mock_clock

    try:
        clock = advance_mock_clock(url, days)
    except ServiceError as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(f"now {clock['now']} ({clock['days_advanced']} days advanced)")


@app.command("faults")
def set_faults(
    scenarios: Annotated[
        list[str] | None,
        typer.Argument(help="Scenarios (outage, server_error:rate=0.2, ...); none: show."),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the scenarios' draws.")] = 0,
    clear: Annotated[bool, typer.Option("--clear", help="Turn the faults off.")] = False,
    url: Annotated[
        str, typer.Option(envvar="MOCK_URL", help="The running mock server.")
    ] = "http://127.0.0.1:8765",
) -> None:
    """Set (or --clear, or show) the fault scenarios of a running server."""
    from testbench.mock_apis.faults import SCENARIOS, parse

    if clear:
        method, body = "DELETE", None
    elif scenarios:
        try:
            parse(scenarios)  # a typo is caught here, with the list of names
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
        method, body = "POST", orjson.dumps({"scenarios": scenarios, "seed": seed})
    else:
        method, body = "GET", None
    request = urllib.request.Request(
        f"{url.rstrip('/')}/_mock/faults",
        data=body,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            state = orjson.loads(response.read())
    except urllib.error.URLError as error:
        raise typer.BadParameter(f"cannot reach the mock server at {url}: {error}") from None
    if not state["scenarios"]:
        typer.echo("faults off. Scenarios: " + ", ".join(SCENARIOS))
        return
    typer.echo(f"faults on: {', '.join(state['scenarios'])} (seed {state['seed']})")
    typer.echo(f"{state['requests']} API requests so far; injected: {state['injected']}")


def main() -> None:
    app()
