"""Login with Amazon as the emulator plays it: the token endpoint and Seller Central's consent page.

* ``POST /auth/o2/token`` (form-encoded): ``refresh_token`` grant -> access token (``Atza|…``,
  ``expires_in``); ``authorization_code`` grant (the seller's ``spapi_oauth_code``: single use,
  five minutes, same ``redirect_uri`` as the consent) -> access + new refresh token (``Atzr|…``);
  ``client_credentials`` (grantless scopes). Errors are LWA's: 400 ``invalid_request`` /
  ``invalid_grant`` / ``unsupported_grant_type``, 401 ``invalid_client``.
* ``GET /apps/authorize/consent?application_id&state[&redirect_uri][&version=beta]``: the seller
  "confirms" at once; 302 to the redirect URI with ``state``, ``selling_partner_id`` and
  ``spapi_oauth_code``.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from .common import Clock

CODE_TTL = timedelta(minutes=5)
GRANTLESS_SCOPES = ("sellingpartnerapi::notifications", "sellingpartnerapi::client_credential:rotation")


@dataclass
class AccessToken:
    refresh_token: str | None
    expires_at: datetime
    scope: str | None = None


class Lwa:
    def __init__(self, clock: Clock, *, client_id: str, client_secret: str, refresh_token: str, seller_id: str,
                 application_id: str, redirect_uris: tuple[str, ...], draft_app: bool, token_ttl: int) -> None:
        self.clock = clock
        self.client_id, self.client_secret = client_id, client_secret
        self.seller_id, self.application_id = seller_id, application_id
        self.redirect_uris, self.draft_app, self.token_ttl = redirect_uris, draft_app, token_ttl
        self.refresh_tokens: set[str] = {refresh_token}
        self.access: dict[str, AccessToken] = {}
        self.codes: dict[str, tuple[datetime, str | None]] = {}  # code -> (expires, redirect_uri)
        self.token_requests = 0
        self.lock = threading.Lock()

    # -- helpers for tests ------------------------------------------------------------------------

    def issue_code(self, redirect_uri: str | None = None) -> str:
        code = "ANDaNS" + secrets.token_urlsafe(18)
        with self.lock:
            self.codes[code] = (self.clock.now() + CODE_TTL, redirect_uri)
        return code

    def revoke(self, refresh_token: str | None = None) -> None:
        """The seller removed the authorization: refresh tokens (and their access tokens) die."""
        with self.lock:
            dead = {refresh_token} if refresh_token else set(self.refresh_tokens)
            self.refresh_tokens -= dead
            self.access = {k: v for k, v in self.access.items() if v.refresh_token not in dead}

    def check(self, token: str | None) -> str | None:
        """None when ``token`` may call the API, else the 403 ``details`` text."""
        if not token:
            return "Access token is missing in the request header."
        with self.lock:
            entry = self.access.get(token)
        if entry is None or entry.scope is not None:
            return "The access token you provided is revoked, malformed or invalid."
        if entry.expires_at <= self.clock.now():
            return "The access token you provided has expired."
        return None

    # -- HTTP -------------------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        if request.method != "POST":
            return _error(405, "invalid_request", "The token endpoint accepts POST only")
        if not (request.mimetype or "").startswith("application/x-www-form-urlencoded"):
            return _error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        with self.lock:
            self.token_requests += 1
        form = request.form
        client_ok = hmac.compare_digest(form.get("client_id", ""), self.client_id) and hmac.compare_digest(
            form.get("client_secret", ""), self.client_secret)
        grant = form.get("grant_type")
        if grant not in ("refresh_token", "authorization_code", "client_credentials"):
            return _error(400, "unsupported_grant_type", "The authorization grant type is not supported")
        if not client_ok:
            return _error(401, "invalid_client", "Client authentication failed")
        now = self.clock.now()
        with self.lock:
            if grant == "refresh_token":
                refresh = form.get("refresh_token", "")
                if refresh not in self.refresh_tokens:
                    return _error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
                return _json(self._access(refresh, now))
            if grant == "client_credentials":
                scope = form.get("scope", "")
                if scope not in GRANTLESS_SCOPES:
                    return _error(400, "invalid_scope", "An unknown scope was requested")
                body = self._access(None, now, scope=scope)
                return _json({**body, "scope": scope})
            code = form.get("code", "")
            expires, redirect_uri = self.codes.pop(code, (None, None))
            if expires is None or expires <= now:
                return _error(400, "invalid_grant", "The request has an invalid grant parameter : code")
            if redirect_uri and form.get("redirect_uri") not in (None, redirect_uri):
                return _error(400, "invalid_grant", "The redirect_uri does not match the authorization request")
            refresh = "Atzr|" + secrets.token_urlsafe(48)
            self.refresh_tokens.add(refresh)
            return _json({**self._access(refresh, now), "refresh_token": refresh})

    def _access(self, refresh: str | None, now: datetime, *, scope: str | None = None) -> dict:
        token = "Atza|" + secrets.token_urlsafe(48)
        self.access[token] = AccessToken(refresh, now + timedelta(seconds=self.token_ttl), scope)
        return {"access_token": token, "token_type": "bearer", "expires_in": self.token_ttl}

    def consent(self, request: Request) -> Response:
        args = request.args
        if args.get("application_id") != self.application_id:
            return Response("Unknown application", status=400, mimetype="text/plain")
        if self.draft_app and args.get("version") != "beta":
            return Response("This application is in draft: add version=beta", status=400, mimetype="text/plain")
        state = args.get("state")
        if not state:
            return Response("state is required", status=400, mimetype="text/plain")
        redirect_uri = args.get("redirect_uri")
        if redirect_uri and redirect_uri not in self.redirect_uris:
            return Response("redirect_uri is not registered for this application", status=400, mimetype="text/plain")
        target = redirect_uri or self.redirect_uris[0]
        code = self.issue_code(redirect_uri)
        query = urlencode({"state": state, "selling_partner_id": self.seller_id, "spapi_oauth_code": code})
        response = Response(status=302)
        response.headers["Location"] = f"{target}{'&' if '?' in target else '?'}{query}"
        return response


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json",
                    headers={"Cache-Control": "no-store"})


def _error(status: int, code: str, description: str) -> Response:
    return _json({"error": code, "error_description": description}, status)
