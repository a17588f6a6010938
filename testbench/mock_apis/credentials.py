"""The credentials the mock APIs accept: the product's development defaults unless configured.

The defaults are the pipeline's (``pipeline.config``): one owner, read by both sides. Set
``MOCK_MAILCHIMP_API_KEY`` and ``MOCK_HUBSPOT_TOKEN`` to make the mock accept other values (the
tests do, to check that no credential leaks into any output).
"""

import os

from pipeline.config import (
    DEV_GOOGLE_CLIENT_ID,
    DEV_GOOGLE_CLIENT_SECRET,
    DEV_GOOGLE_REFRESH_TOKEN,
    DEV_GOOGLE_SPREADSHEET_ID,
    DEV_HUBSPOT_TOKEN,
    DEV_MAILCHIMP_API_KEY,
)


def mailchimp_api_key() -> str:
    return os.environ.get("MOCK_MAILCHIMP_API_KEY", "").strip() or DEV_MAILCHIMP_API_KEY


def hubspot_token() -> str:
    return os.environ.get("MOCK_HUBSPOT_TOKEN", "").strip() or DEV_HUBSPOT_TOKEN


def google_spreadsheet_id() -> str:
    """The one spreadsheet the mock serves (any other id is a 404)."""
    return os.environ.get("MOCK_GOOGLE_SPREADSHEET_ID", "").strip() or DEV_GOOGLE_SPREADSHEET_ID


def google_oauth_client() -> tuple[str, str, str]:
    """The OAuth client (id, secret) and the refresh token the mock's token endpoint accepts."""
    return (
        os.environ.get("MOCK_GOOGLE_CLIENT_ID", "").strip() or DEV_GOOGLE_CLIENT_ID,
        os.environ.get("MOCK_GOOGLE_CLIENT_SECRET", "").strip() or DEV_GOOGLE_CLIENT_SECRET,
        os.environ.get("MOCK_GOOGLE_REFRESH_TOKEN", "").strip() or DEV_GOOGLE_REFRESH_TOKEN,
    )
