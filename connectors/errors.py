"""The three ways a call to an outside system can fail, as the job layer understands them.

Jobs map these onto RQ: a :class:`RetryableError` is retried with backoff (honouring
``retry_after`` when the vendor told us how long to wait), a :class:`PermanentError` fails the job
at once and is logged, an :class:`AuthError` is permanent too but means the credentials are gone
(revoked token, uninstalled app) so the caller should stop work for that account.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class for every failure raised by a connector."""

    def __init__(self, message: str, *, system: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.operation = operation

    def __str__(self) -> str:
        where = ".".join(p for p in (self.system, self.operation) if p)
        return f"{where}: {self.message}" if where else self.message


class RetryableError(ConnectorError):
    """A temporary failure (timeout, 5xx, throttling); the same call may succeed later."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        system: str = "",
        operation: str = "",
        refused: bool = False,
    ) -> None:
        super().__init__(message, system=system, operation=operation)
        self.retry_after = retry_after
        # The vendor turned the call away before running it (a 429): repeating it is safe even
        # for a write.
        self.refused = refused


class PermanentError(ConnectorError):
    """The request itself is wrong (validation, unknown resource); retrying cannot help."""

    def __init__(
        self,
        message: str,
        *,
        field: str | list[str] | None = None,
        code: str | None = None,
        system: str = "",
        operation: str = "",
    ) -> None:
        super().__init__(message, system=system, operation=operation)
        self.field = field
        self.code = code


class AuthError(PermanentError):
    """Credentials were refused (401/403, revoked or expired token that cannot be refreshed)."""
