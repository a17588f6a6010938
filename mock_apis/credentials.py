"""Development credentials the mock APIs accept when none are configured.

They are not secrets: they only open the local mock. Set ``MOCK_MAILCHIMP_API_KEY`` and
``MOCK_HUBSPOT_TOKEN`` to make the mock accept other values (the tests do, to check that no
credential leaks into any output).
"""

import os

# A MailChimp key ends in its data centre after the last '-', as real keys do (``...-us6``).
DEV_MAILCHIMP_API_KEY = "mockdev0mailchimp0key00000000000-us6"
# HubSpot private-app tokens look like ``pat-na1-<uuid>``.
DEV_HUBSPOT_TOKEN = "pat-na1-mockdev0-0000-0000-0000-hubspot00000"


def mailchimp_api_key() -> str:
    return os.environ.get("MOCK_MAILCHIMP_API_KEY", "").strip() or DEV_MAILCHIMP_API_KEY


def hubspot_token() -> str:
    return os.environ.get("MOCK_HUBSPOT_TOKEN", "").strip() or DEV_HUBSPOT_TOKEN
