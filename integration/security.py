"""Keys derived from SECRET_KEY for one purpose each (the raw secret signs nothing itself)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from itsdangerous import URLSafeTimedSerializer


def derived_key(purpose: str) -> bytes:
    secret = current_app.config["NEARSTOCK"].secret_key.encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"nearstock", info=purpose.encode()).derive(secret)


def signer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(derived_key(purpose), salt=purpose)
