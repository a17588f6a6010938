"""Console entry point ``source-mailchimp``: the Airbyte commands spec, check, discover, read."""

import sys

from airbyte_cdk.entrypoint import launch

from source_mailchimp.source import SourceMailchimp


def run() -> None:
    launch(SourceMailchimp(), sys.argv[1:])
