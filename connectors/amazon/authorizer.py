"""Amazon behind the :class:`~integration.domain.ports.AmazonAuthorizer` port: our SP-API
application as sellers authorize it, over the consent and code exchange of :mod:`.auth`."""

from __future__ import annotations

from collections.abc import Mapping

from integration.domain.authorization import ConsentCallback, SellerAuthorization

from . import auth
from .auth import DEFAULT_LWA_URL, LwaCredentials
from .client import region_of


class SellerAuthorizer:
    def __init__(self, application_id: str, credentials: LwaCredentials, *, token_url: str | None = None,
                 beta: bool = False, seller_central_url: str | None = None) -> None:
        """``application_id`` is the SP-API app id (not the LWA client id); ``beta`` while the app is
        a draft; ``token_url`` and ``seller_central_url`` stand in for Amazon's (the emulator)."""
        self.application_id = application_id
        self.credentials = credentials
        self.token_url = token_url or DEFAULT_LWA_URL
        self.beta = beta
        self.seller_central_url = seller_central_url

    def __repr__(self) -> str:
        return f"SellerAuthorizer({self.application_id!r}, token_url={self.token_url!r})"

    def region_of(self, marketplace_id: str) -> str:
        return region_of(marketplace_id)

    def consent_url(self, state: str, *, marketplace_id: str, redirect_uri: str) -> str:
        return auth.consent_url(self.application_id, state, marketplace_id=marketplace_id, redirect_uri=redirect_uri,
                                beta=self.beta, seller_central_url=self.seller_central_url)

    def read_callback(self, query: Mapping[str, str], *, expected_state: str) -> ConsentCallback:
        return auth.parse_callback(query, expected_state=expected_state)

    def exchange_code(self, code: str, *, selling_partner_id: str, redirect_uri: str) -> SellerAuthorization:
        return auth.exchange_code(code, client_id=self.credentials.client_id,
                                  client_secret=self.credentials.client_secret, redirect_uri=redirect_uri,
                                  token_url=self.token_url, selling_partner_id=selling_partner_id)
