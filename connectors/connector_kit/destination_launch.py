"""A destination's ``write`` fed with messages read its own way: the one thing here that the CDK's
public API cannot do, kept in this module.

``Destination.run`` reads ``write``'s input itself: every line of stdin becomes an
``AirbyteMessage`` (serpyco-rs) before ``write`` sees it, which for a record costs more than
loading it into DuckDB. The only hook between the two is the private
``Destination._parse_input_stream``. Rather than override it, ``launch_destination`` does what
``Destination.run`` does for ``write`` with public parts only (the argument parser, config and
spec, secret masking, the spec check, the uncaught-exception handler, the serializer) and hands
``write`` the messages that ``read_input`` makes of stdin's bytes; every other command (``spec``,
``check``) is ``Destination.run`` itself.

The assumption, that ``Destination.run`` does for ``write`` no more than this, holds for the
airbyte-cdk version pinned in pyproject.toml; tests/test_connector_public_api.py runs both on the
same input and fails if they differ.
"""

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

import orjson
from airbyte_cdk.destinations import Destination
from airbyte_cdk.exception_handler import init_uncaught_exception_handler
from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer
from airbyte_cdk.sources.utils.schema_helpers import check_config_against_spec_or_exit
from airbyte_cdk.utils.airbyte_secrets_utils import get_secrets, update_secrets

logger = logging.getLogger("airbyte")

# What write() gets: AirbyteMessages, or objects with the same ``type`` and ``record`` attributes.
InputReader = Callable[[BinaryIO], Iterable[Any]]


def launch_destination(
    destination: Destination,
    args: list[str],
    read_input: InputReader,
    stdin: BinaryIO | None = None,
) -> None:
    """``destination.run(args)``, with ``write``'s input read from ``stdin`` (the process's by
    default) by ``read_input``."""
    parsed_args = destination.parse_args(args)
    if parsed_args.command != "write":
        destination.run(args)
        return
    init_uncaught_exception_handler(logger)
    spec = destination.spec(logger)
    config = destination.read_config(config_path=parsed_args.config)
    # Secrets are registered with the log filter before anything can print them.
    update_secrets(get_secrets(spec.connectionSpecification, config))
    if destination.check_config_against_spec:
        check_config_against_spec_or_exit(config, spec)
    with open(parsed_args.catalog, "rb") as catalog_file:
        catalog = ConfiguredAirbyteCatalogSerializer.load(orjson.loads(catalog_file.read()))
    messages = read_input(stdin or sys.stdin.buffer)
    logger.info("Begin writing to the destination...")
    for message in destination.write(config, catalog, messages):
        # Flushed at once: a state message out here has been committed, and the orchestrator
        # persists it as soon as it reads it.
        print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode(), flush=True)
    logger.info("Writing complete.")
