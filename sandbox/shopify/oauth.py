"""OAuth: authorization code grant, token exchange, expiring offline tokens and refresh rotation.

https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/token-exchange
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
Error bodies follow Shopify's (Doorkeeper) ``{"error", "error_description"}`` shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
import uuid
import warnings
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import jwt

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE = "urn:shopify:params:oauth:token-type:online-access-token"
CODE_TTL = 600
ONLINE_TTL = 86399
SCOPE_RE = re.compile(r"^(unauthenticated_)?(read|write|customer_read|customer_write)_[a-z_]+$")

INVALID_CLIENT = ("invalid_client", "Client authentication failed due to unknown client, no "
                  "client authentication included, or unsupported authentication method.")
INVALID_GRANT = ("invalid_grant", "The provided authorization grant is invalid, expired, revoked, "
                 "does not match the redirection URI used in the authorization request, or was "
                 "issued to another client.")


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "error_description": description}


@dataclass
class Grant:
    shop: str
    scopes: frozenset[str]
    expires_at: float | None = None
    kind: str = "offline"
    user_id: str | None = None


@dataclass
class Refresh:
    shop: str
    scopes: frozenset[str]
    expires_at: float
    used: bool = False
    children: list[str] = field(default_factory=list)


def parse_scopes(value) -> frozenset[str]:
    if isinstance(value, str):
        value = value.split(",")
    return frozenset(s.strip() for s in value or () if s and s.strip())


def scope_text(scopes: frozenset[str]) -> str:
    return ",".join(sorted(scopes))


def query_hmac(params: dict[str, str], secret: str) -> str:
    message = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "hmac")
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class OAuth:
    """Token state of one app; ``clock`` is the emulator's (tests may advance it)."""

    def __init__(self, api_key: str, api_secret: str, *, access_ttl: int, refresh_ttl: int,
                 clock=time.time, refresh_reuse: str = "strict") -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.clock = clock
        self.refresh_reuse = refresh_reuse
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Refresh] = {}
        self.default_scopes: frozenset[str] = frozenset()
        # Shops the app is installed on (was granted a token for): the app's configured webhook
        # subscriptions apply to them.
        self.installed: set[str] = set()

    # -- authorize ---------------------------------------------------------------------------

    def authorize(self, shop: str, args: dict[str, str], app_url: str | None) -> str:
        """Auto-approves the install and returns the redirect location."""
        if args.get("client_id") != self.api_key:
            raise OAuthError(400, "invalid_request", "The client_id provided is invalid")
        redirect_uri = args.get("redirect_uri") or (app_url and app_url.rstrip("/") + "/auth/callback")
        if not redirect_uri or not urlsplit(redirect_uri).scheme:
            raise OAuthError(400, "invalid_request", "The redirect_uri is missing or invalid")
        if app_url and urlsplit(redirect_uri).netloc != urlsplit(app_url).netloc:
            raise OAuthError(400, "invalid_request", "The redirect_uri is not whitelisted")
        scopes = parse_scopes(args.get("scope", ""))
        bad = [s for s in scopes if not SCOPE_RE.match(s)]
        if bad:
            raise OAuthError(400, "invalid_scope", f"The access scope is invalid: {', '.join(bad)}")
        code = secrets.token_hex(16)
        online = "per-user" in (args.get("grant_options[]") or "")
        self.codes[code] = {"shop": shop, "scopes": scopes or self.default_scopes,
                            "expires_at": self.clock() + CODE_TTL, "online": online}
        params = {"code": code, "host": base64.b64encode(f"{shop}/admin".encode()).decode(),
                  "shop": shop, "state": args.get("state", ""),
                  "timestamp": str(int(time.time()))}
        params["hmac"] = query_hmac(params, self.api_secret)
        sep = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{sep}{urlencode(params)}"

    # -- token endpoint ----------------------------------------------------------------------

    def token(self, shop: str, form: dict[str, str]) -> dict:
        grant_type = form.get("grant_type") or "authorization_code"
        if form.get("client_id") != self.api_key or not hmac.compare_digest(
                str(form.get("client_secret", "")), self.api_secret):
            raise OAuthError(401, *INVALID_CLIENT)
        expiring = str(form.get("expiring", "0")).lower() in ("1", "true")
        if grant_type == "authorization_code":
            return self._code(shop, form, expiring)
        if grant_type == TOKEN_EXCHANGE:
            return self._exchange(shop, form, expiring)
        if grant_type == "refresh_token":
            return self._refresh(shop, form)
        raise OAuthError(400, "unsupported_grant_type",
                         "The authorization grant type is not supported by the authorization "
                         "server.")

    def _code(self, shop: str, form: dict, expiring: bool) -> dict:
        entry = self.codes.pop(form.get("code") or "", None)
        if entry is None or entry["shop"] != shop or entry["expires_at"] < self.clock():
            raise OAuthError(400, "invalid_request",
                             "The authorization code was not found or was already used")
        if entry["online"]:
            return self._online(shop, entry["scopes"], "1")
        return self.issue(shop, entry["scopes"], expiring=expiring)

    def _exchange(self, shop: str, form: dict, expiring: bool) -> dict:
        if form.get("subject_token_type") != ID_TOKEN:
            raise OAuthError(400, "invalid_request", "subject_token_type must be " + ID_TOKEN)
        requested = form.get("requested_token_type")
        if requested not in (OFFLINE, ONLINE):
            raise OAuthError(400, "invalid_request", "requested_token_type is invalid")
        claims = self.verify_session_token(form.get("subject_token") or "", shop)
        if requested == ONLINE:
            return self._online(shop, self.default_scopes, claims["sub"])
        return self.issue(shop, self.default_scopes, expiring=expiring)

    def verify_session_token(self, token: str, shop: str) -> dict:
        try:
            with warnings.catch_warnings():  # test secrets are shorter than real (32-byte) ones
                warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
                claims = jwt.decode(token, self.api_secret, algorithms=["HS256"],
                                    audience=self.api_key, options={"require": [
                                        "exp", "nbf", "iat", "iss", "dest", "aud", "sub"]})
        except jwt.PyJWTError as exc:
            raise OAuthError(400, "invalid_subject_token", f"Session token is invalid: {exc}") \
                from exc
        if claims["dest"] != f"https://{shop}" or claims["iss"] != f"https://{shop}/admin":
            raise OAuthError(400, "invalid_subject_token",
                             "Session token was issued for another shop")
        return claims

    def _refresh(self, shop: str, form: dict) -> dict:
        value = form.get("refresh_token") or ""
        entry = self.refresh_tokens.get(value)
        if entry is None or entry.shop != shop or entry.expires_at < self.clock():
            raise OAuthError(400, *INVALID_GRANT)
        if entry.used and (self.refresh_reuse == "strict" or any(
                self.refresh_tokens[c].used for c in entry.children)):
            raise OAuthError(400, *INVALID_GRANT)
        entry.used = True
        pair = self.issue(shop, entry.scopes, expiring=True)
        entry.children.append(pair["refresh_token"])
        return pair

    # -- issuing -----------------------------------------------------------------------------

    def issue(self, shop: str, scopes: frozenset[str], *, expiring: bool) -> dict:
        access = "shpat_" + secrets.token_hex(16)
        now = self.clock()
        self.installed.add(shop)
        if not expiring:
            self.tokens[access] = Grant(shop, scopes)
            return {"access_token": access, "scope": scope_text(scopes)}
        self.tokens[access] = Grant(shop, scopes, expires_at=now + self.access_ttl)
        refresh = "shprt_" + secrets.token_hex(16)
        self.refresh_tokens[refresh] = Refresh(shop, scopes, now + self.refresh_ttl)
        return {"access_token": access, "expires_in": self.access_ttl, "refresh_token": refresh,
                "refresh_token_expires_in": self.refresh_ttl, "scope": scope_text(scopes)}

    def _online(self, shop: str, scopes: frozenset[str], user_id: str) -> dict:
        access = "shpua_" + secrets.token_hex(16)
        self.installed.add(shop)
        self.tokens[access] = Grant(shop, scopes, self.clock() + ONLINE_TTL, "online", user_id)
        return {"access_token": access, "scope": scope_text(scopes), "expires_in": ONLINE_TTL,
                "associated_user_scope": scope_text(scopes),
                "associated_user": {"id": int(user_id) if str(user_id).isdigit() else user_id,
                                    "first_name": "Staff", "last_name": "Member",
                                    "email": f"staff{user_id}@example.com", "email_verified": True,
                                    "account_owner": True, "locale": "en", "collaborator": False}}

    def check(self, token: str | None, shop: str) -> Grant | None:
        grant = self.tokens.get(token or "")
        if grant is None or grant.shop != shop:
            return None
        if grant.expires_at is not None and grant.expires_at <= self.clock():
            return None
        return grant

    def session_token(self, shop: str, *, user_id=1, audience=None, expires_in=60, nbf_offset=0,
                      secret=None) -> str:
        now = int(time.time())
        payload = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}",
                   "aud": audience or self.api_key, "sub": str(user_id), "exp": now + expires_in,
                   "nbf": now + nbf_offset, "iat": now, "jti": str(uuid.uuid4()),
                   "sid": hashlib.sha256(f"{shop}{user_id}".encode()).hexdigest()[:32]}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
            return jwt.encode(payload, secret or self.api_secret, algorithm="HS256")
