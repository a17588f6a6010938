"""The mock server: one Starlette app serving MailChimp, HubSpot and the admin endpoints over one
world.
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_apis import credentials, hubspot_routes, mailchimp_routes
from mock_apis.responses import BadRequest, JSONResponse, int_param
from mock_apis.timeline import mailchimp_time
from mock_apis.truth import DEFAULT_ATTRIBUTION_WINDOW_DAYS, truth
from mock_apis.world import World


def health(request: Request) -> Response:
    world: World = request.app.state.world
    return JSONResponse(
        {
            "status": "ok",
            "seed": world.seed,
            "scale": world.scale,
            "days_advanced": world.days_advanced,
            "now": mailchimp_time(world.now_ts),
        }
    )


def ground_truth(request: Request) -> Response:
    """Not a real API path: lets tests and learners check what the pipeline should have found."""
    try:
        window = int_param(request, "attribution_window_days", DEFAULT_ATTRIBUTION_WINDOW_DAYS)
    except BadRequest as error:
        return JSONResponse({"status": "error", "message": str(error)}, 400)
    keys = request.query_params.get("keys", "false").lower() in ("1", "true", "yes")
    return JSONResponse(truth(request.app.state.world, window, keys))


def create_app(world: World) -> Starlette:
    """The app over ``world``; the accepted credentials are read once, from the environment."""
    app = Starlette(
        routes=[
            Route("/_mock/health", health),
            Route("/_mock/truth", ground_truth),
            *mailchimp_routes.routes(),
            *hubspot_routes.routes(),
        ]
    )
    app.state.world = world
    app.state.mailchimp_api_key = credentials.mailchimp_api_key()
    app.state.hubspot_token = credentials.hubspot_token()
    return app
