"""The `orderflow` command's HTTP side: where the API is, the token, and one-line errors.

Every failure a user can meet (the API down, no or a wrong token, a role that may not, an
order that does not exist, a payload the kind refuses) becomes a `CliError` carrying the
sentence to print and the exit code, so each subcommand stays a request and a view.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from typing import Any

import httpx

from app.cli_commands import USAGE_ERROR
from shared.settings import Settings

# Exit codes beyond 0 (done), 2 (bad invocation) and 130 (interrupted).
API_REFUSED = 1  # the API answered with an error: 404, 409, 422, 5xx
UNREACHABLE = 3  # nothing answered at the API's URL
NOT_ALLOWED = 4  # 401 or 403: mint or choose another token

# Completions and traces wait on Temporal and a few queries; connecting should be quick.
TIMEOUT = httpx.Timeout(60.0, connect=5.0)

MINT_HINT = (
    "mint one with `orderflow token --sub NAME --roles ROLE[,ROLE...]` and "
    "`export ORDERFLOW_TOKEN=<token>` (or pass --token)"
)


# A failure to report in one line, with the exit code it ends the command with.
class CliError(Exception):
    def __init__(self, message: str, code: int = API_REFUSED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def api_url(option: str | None, settings: Settings) -> str:
    """`--api`, else `ORDERFLOW_API_URL`, else the local gateway on `ORDERFLOW_HTTP_PORT`."""
    url = option or os.environ.get("ORDERFLOW_API_URL") or f"http://127.0.0.1:{settings.http_port}"
    return url.rstrip("/")


def api_token(option: str | None) -> str | None:
    """`--token`, else `ORDERFLOW_TOKEN`; None when neither is set."""
    token = option or os.environ.get("ORDERFLOW_TOKEN", "")
    return token.strip() or None


def token_claims(token: str | None) -> dict[str, Any]:
    """The token's claims, read without checking the signature (the API checks it): only to
    name its `sub` and `roles` in an error message. Empty when it is no JWT."""
    if not token or token.count(".") != 2:
        return {}
    body = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


# The API at one URL with one token; `get`/`post` answer the JSON body or raise CliError.
@dataclass
class Api:
    base_url: str
    token: str | None
    http: httpx.Client

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET `path` with the non-empty `params`."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return self._send("GET", path, params=query)

    def post(self, path: str, body: Any = None) -> Any:
        """POST `body` as JSON to `path`."""
        return self._send("POST", path, json=body)

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise CliError(
                f"cannot reach the orderflow API at {self.base_url}: is `make run` running?",
                UNREACHABLE,
            ) from exc
        except httpx.TimeoutException as exc:
            raise CliError(
                f"the orderflow API at {self.base_url} did not answer {method} {path} "
                f"within {TIMEOUT.read:.0f}s",
                UNREACHABLE,
            ) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise CliError(f"{self.base_url!r} is not an http(s) URL: {exc}", USAGE_ERROR) from exc
        except httpx.TransportError as exc:
            raise CliError(
                f"the orderflow API at {self.base_url} broke off {method} {path}: {exc}",
                UNREACHABLE,
            ) from exc
        if response.is_success:
            return _json(response)
        raise self._refusal(response)

    def _refusal(self, response: httpx.Response) -> CliError:
        error, detail = _error_body(response)
        status = response.status_code
        if status == httpx.codes.UNAUTHORIZED:
            if not self.token:
                return CliError(f"no token: {MINT_HINT}", NOT_ALLOWED)
            return CliError(f"the API refused the token ({detail}): {MINT_HINT}", NOT_ALLOWED)
        if status == httpx.codes.FORBIDDEN:
            claims = token_claims(self.token)
            roles = claims.get("roles") or []
            held = ", ".join(roles) if isinstance(roles, list) and roles else "none"
            who = f" (sub {claims['sub']})" if claims.get("sub") else ""
            return CliError(
                f"forbidden: {detail}; your token{who} has the roles: {held}", NOT_ALLOWED
            )
        if status >= httpx.codes.INTERNAL_SERVER_ERROR:
            return CliError(f"the API failed ({status} {error}): {detail}", API_REFUSED)
        return CliError(f"{status} {error}: {detail}", API_REFUSED)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise CliError(
            f"{response.request.url} answered {response.status_code} but not with JSON: "
            f"{response.text[:200]!r}"
        ) from exc


def _error_body(response: httpx.Response) -> tuple[str, str]:
    """The API's `{error, detail}`, or the status phrase and the start of whatever came."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        return str(body["error"]), str(body.get("detail", ""))
    return response.reason_phrase.lower() or "error", response.text[:200].strip() or "-"


def connect(base_url: str, token: str | None) -> Api:
    """An `Api` for `base_url`; close its `http` when done (or use `with api.http`)."""
    try:
        http = httpx.Client(base_url=base_url, timeout=TIMEOUT)
    except (httpx.InvalidURL, ValueError) as exc:
        raise CliError(f"{base_url!r} is not a URL the CLI can call: {exc}", USAGE_ERROR) from exc
    return Api(base_url=base_url, token=token, http=http)
