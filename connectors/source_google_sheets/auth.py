"""Google's OAuth 2.0 for a server: a service account's signed JWT, or an OAuth client's refresh
token, exchanged for a one-hour access token sent as ``Authorization: Bearer``.

PyJWT (with ``cryptography``) signs the service account's assertion; both come with the CDK,
so the connector needs no Google client library.
"""

import threading
import time
from collections.abc import Mapping
from typing import Any

import jwt
import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from connector_kit.http import REQUEST_TIMEOUT
from requests.auth import AuthBase

SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets.readonly",
    "https://www.googleapis.com/auth/drive.readonly",
)
SERVICE_ACCOUNT_TOKEN_URI = "https://oauth2.googleapis.com/token"
OAUTH_CLIENT_TOKEN_URI = "https://www.googleapis.com/oauth2/v4/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # Google's maximum
REFRESH_MARGIN = 60  # renew the token this long before it expires


def config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, failure_type=FailureType.config_error)


class GoogleCredentials(AuthBase):
    """A requests ``AuthBase`` that obtains, caches and renews the access token."""

    def __init__(self, credentials: Mapping[str, Any], token_uri: str | None = None) -> None:
        auth_type = credentials.get("auth_type")
        if auth_type == "Service":
            self._account = _service_account(credentials.get("service_account_info"))
            self.token_uri = (
                token_uri or self._account.get("token_uri") or SERVICE_ACCOUNT_TOKEN_URI
            )
        elif auth_type == "Client":
            missing = [
                name
                for name in ("client_id", "client_secret", "refresh_token")
                if not credentials.get(name)
            ]
            if missing:
                raise config_error(f"Config 'credentials' lacks {', '.join(missing)}.")
            self._account = {}
            self.token_uri = token_uri or OAUTH_CLIENT_TOKEN_URI
        else:
            raise config_error(
                "Config 'credentials.auth_type' must be 'Service' (a service account key file) "
                "or 'Client' (an OAuth client with a refresh token)."
            )
        self._credentials = credentials
        self._token = ""
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.access_token()}"
        return request

    def access_token(self) -> str:
        with self._lock:
            if time.monotonic() >= self._expires_at - REFRESH_MARGIN:
                self._refresh()
            return self._token

    def _grant(self) -> dict[str, str]:
        if self._account:
            now = int(time.time())
            claims = {
                "iss": self._account["client_email"],
                "scope": " ".join(SCOPES),
                "aud": self.token_uri,
                "iat": now,
                "exp": now + ASSERTION_LIFETIME,
            }
            headers = (
                {"kid": self._account["private_key_id"]}
                if self._account.get("private_key_id")
                else None
            )
            try:
                assertion = jwt.encode(
                    claims, self._account["private_key"], algorithm="RS256", headers=headers
                )
            except (ValueError, TypeError) as error:
                raise config_error(
                    "The service account key file's 'private_key' is not a PEM RSA key "
                    f"({type(error).__name__})."
                ) from None
            return {"grant_type": JWT_BEARER, "assertion": assertion}
        return {
            "grant_type": "refresh_token",
            "client_id": self._credentials["client_id"],
            "client_secret": self._credentials["client_secret"],
            "refresh_token": self._credentials["refresh_token"],
        }

    def _refresh(self) -> None:
        try:
            response = requests.post(self.token_uri, data=self._grant(), timeout=REQUEST_TIMEOUT)
        except requests.RequestException as error:
            raise AirbyteTracedException(
                message=f"Could not reach Google's token endpoint {self.token_uri}: "
                f"{type(error).__name__}.",
                failure_type=FailureType.transient_error,
            ) from None
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = {}
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            # Google's token errors: {"error": "invalid_grant", "error_description": "..."}; they
            # never echo the credential.
            description = body.get("error_description") or body.get("error") or "no detail"
            raise config_error(
                f"Google refused the credentials (HTTP {response.status_code} from "
                f"{self.token_uri}): {description}. Check the config's 'credentials'."
            )
        self._token = body["access_token"]
        add_to_secrets(self._token)
        self._expires_at = time.monotonic() + float(body.get("expires_in") or 3600)


def _service_account(info: Any) -> dict[str, Any]:
    try:
        account = orjson.loads(info) if isinstance(info, str | bytes) else dict(info or {})
    except (orjson.JSONDecodeError, TypeError, ValueError):
        raise config_error(
            "Config 'credentials.service_account_info' is not JSON: paste the whole key file."
        ) from None
    missing = [name for name in ("client_email", "private_key") if not account.get(name)]
    if missing:
        raise config_error(
            f"Config 'credentials.service_account_info' lacks {', '.join(missing)}: "
            "paste the whole key file."
        )
    add_to_secrets(account["private_key"])
    return account
