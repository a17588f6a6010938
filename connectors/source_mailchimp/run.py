"""Console entry point ``source-mailchimp``: the Airbyte commands spec, check, discover, read."""

import sys

from connector_kit.runtime import launch_source

from source_mailchimp.source import SourceMailchimp


def run() -> None:
    launch_source(SourceMailchimp(), sys.argv[1:])
