"""Run job code inside a Flask app context, whichever process picked the job up."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import structlog
from flask import Flask, current_app, has_app_context

from connectors.errors import RetryableError
from integration import metrics

P = ParamSpec("P")
R = TypeVar("R")

log = structlog.get_logger("jobs")

_app: Flask | None = None


def get_app() -> Flask:
    """The worker process's app, created once (before the fork, so work horses inherit it)."""
    global _app
    if _app is None:
        from integration import create_app

        _app = create_app()
    return _app


def job(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a job function: app context, job id bound to every log line, session cleaned, run
    counted and timed (a failure is counted by :func:`jobs.failures.count_failure`, which knows
    whether RQ will retry it)."""
    name = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from rq import get_current_job

        current = get_current_job()
        # Only a run RQ started is measured: called inline (a test, another job) it is part of
        # whatever called it.
        measured = current is not None and current.func_name == name
        structlog.contextvars.bind_contextvars(job_id=current.id if current else None)
        started = time.perf_counter()
        try:
            # A fresh app context per job, hence a fresh database session (sessions are scoped
            # per app context): jobs sharing one long-lived worker never see each other's
            # cached rows, and the session is removed when the job's context ends.
            app = current_app._get_current_object() if has_app_context() else get_app()
            with app.app_context():
                result = func(*args, **kwargs)
            if measured:
                metrics.count_job(name, "succeeded")
            return result
        finally:
            if measured:
                metrics.observe_job(name, time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("job_id")

    return wrapper


def retried_until_next_round(func: Callable[P, R]) -> Callable[P, R | str]:
    """For a periodic job (a poll): a retryable vendor error is retried as the job was enqueued
    (honouring ``Retry-After``, see :mod:`jobs.failures`), but once its retries are used up it is
    not a failure a person must look at, since the next cron round asks again: logged, not
    failed."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | str:
        from rq import get_current_job

        try:
            return func(*args, **kwargs)
        except RetryableError as exc:
            current = get_current_job()
            if current is not None and current.retries_left:
                raise
            log.warning("job.deferred_to_next_round", func=func.__name__, error=str(exc))
            return "deferred"

    return wrapper
