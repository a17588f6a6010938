"""The credentials the mock APIs accept: the product's development defaults unless configured.

The defaults are the pipeline's (``pipeline.config``): one owner, read by both sides. Set
``MOCK_MAILCHIMP_API_KEY`` and ``MOCK_HUBSPOT_TOKEN`` to make the mock accept other values (the
tests do, to check that no credential leaks into any output).
"""

import os

from pipeline.config import DEV_HUBSPOT_TOKEN, DEV_MAILCHIMP_API_KEY


def mailchimp_api_key() -> str:
    return os.environ.get("MOCK_MAILCHIMP_API_KEY", "").strip() or DEV_MAILCHIMP_API_KEY


def hubspot_token() -> str:
    return os.environ.get("MOCK_HUBSPOT_TOKEN", "").strip() or DEV_HUBSPOT_TOKEN
