"""The mock server: one Starlette app serving MailChimp, HubSpot and the admin endpoints over one
world.
"""

from collections import Counter
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from testbench.mock_apis import credentials, google_sheets_routes, hubspot_routes, mailchimp_routes
from testbench.mock_apis.faults import Faults, FaultsMiddleware
from testbench.mock_apis.google_sheets_routes import GoogleAuth
from testbench.mock_apis.rate_limits import HubSpotLimits
from testbench.mock_apis.responses import BadRequest, JSONResponse, int_param
from testbench.mock_apis.timeline import mailchimp_time
from testbench.mock_apis.truth import DEFAULT_ATTRIBUTION_WINDOW_DAYS, truth
from testbench.mock_apis.world import World

# MailChimp allows 10 simultaneous connections per API key; the 11th gets a 429.
MAILCHIMP_MAX_CONNECTIONS = 10


def _clock(world: World) -> dict[str, Any]:
    return {
        "seed": world.seed,
        "scale": world.scale,
        "days_advanced": world.days_advanced,
        "now": mailchimp_time(world.now_ts),
        "dirty_rate": world.dirty_rate,
    }


def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", **_clock(request.app.state.world)})


def clock(request: Request) -> Response:
    """Not a real API path: the simulated now."""
    return JSONResponse(_clock(request.app.state.world))


def advance(request: Request) -> Response:
    """Not a real API path: move the simulated now forward by ``days`` (default 1).

    The world is a pure function of its days advanced, so advancing builds the world of the later
    day; requests already being answered finish on the world they started with.
    """
    try:
        days = int_param(request, "days", 1, minimum=1)
    except BadRequest as error:
        return JSONResponse({"status": "error", "message": str(error)}, 400)
    world: World = request.app.state.world
    request.app.state.world = world.advanced(days)
    return JSONResponse(_clock(request.app.state.world))


def ground_truth(request: Request) -> Response:
    """Not a real API path: lets tests and learners check what the pipeline should have found."""
    try:
        window = int_param(request, "attribution_window_days", DEFAULT_ATTRIBUTION_WINDOW_DAYS)
    except BadRequest as error:
        return JSONResponse({"status": "error", "message": str(error)}, 400)
    keys = request.query_params.get("keys", "false").lower() in ("1", "true", "yes")
    return JSONResponse(truth(request.app.state.world, window, keys))


async def injected_faults(request: Request) -> Response:
    """Not a real API path: GET says which faults are on and what they did, POST sets them
    (``{"scenarios": [...], "seed": n}``), DELETE turns them off (see mock_apis/faults.py)."""
    if request.method == "POST":
        try:
            document = await request.json()
            scenarios = document.get("scenarios") or []
            seed = int(document.get("seed") or 0)
            request.app.state.faults = Faults.from_specs(scenarios, seed)
        except (ValueError, TypeError, AttributeError) as error:
            return JSONResponse({"status": "error", "message": str(error)}, 400)
    elif request.method == "DELETE":
        request.app.state.faults = Faults()
    return JSONResponse(request.app.state.faults.describe())


def create_app(
    world: World,
    hubspot_limits: HubSpotLimits | None = None,
    faults: Faults | None = None,
    google: GoogleAuth | None = None,
) -> Starlette:
    """The app over ``world``; the accepted credentials are read once, from the environment."""
    app = Starlette(
        routes=[
            Route("/_mock/health", health),
            Route("/_mock/truth", ground_truth),
            Route("/_mock/clock", clock),
            Route("/_mock/advance", advance, methods=["POST"]),
            Route("/_mock/faults", injected_faults, methods=["GET", "POST", "DELETE"]),
            *mailchimp_routes.routes(),
            *hubspot_routes.routes(),
            *google_sheets_routes.routes(),
        ]
    )
    app.state.world = world
    app.state.mailchimp_api_key = credentials.mailchimp_api_key()
    app.state.hubspot_token = credentials.hubspot_token()
    app.state.hubspot_limits = hubspot_limits or HubSpotLimits()
    # Google Sheets: the service account's key pair, the tokens issued, each user's read quota.
    app.state.google = google or GoogleAuth()
    app.state.mailchimp_in_flight = Counter()
    app.state.mailchimp_max_connections = MAILCHIMP_MAX_CONNECTIONS
    # Off unless asked for: an empty Faults changes nothing.
    app.state.faults = faults or Faults()
    app.add_middleware(FaultsMiddleware)
    return app
