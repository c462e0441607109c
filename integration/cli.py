"""Operator commands: ``flask --app integration <command>`` (``make`` targets wrap the common ones)."""

from __future__ import annotations

import json

import click
from cryptography.fernet import Fernet
from flask import Flask, current_app
from rq.job import Job
from rq.registry import FailedJobRegistry

from integration.extensions import QUEUE_NAMES, queues, redis
from integration.job_serializer import JobSerializer


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(jobs_group)
    app.cli.add_command(keygen)
    app.cli.add_command(rotate_keys)


@click.group("db", help="Database schema (Alembic).")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply migrations up to REVISION (default head).")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    from integration import migrate

    migrate.upgrade(current_app.config["NEARSTOCK"].database_url, revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade", help="Revert migrations down to REVISION.")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from integration import migrate

    migrate.downgrade(current_app.config["NEARSTOCK"].database_url, revision)
    click.echo(f"database at {revision}")


@click.group("jobs", help="Inspect and re-run RQ jobs.")
def jobs_group() -> None:
    pass


@jobs_group.command("failed", help="List failed jobs with their error.")
@click.option("--limit", default=50, show_default=True)
def jobs_failed(limit: int) -> None:
    found = 0
    for name in QUEUE_NAMES:
        registry = FailedJobRegistry(name, connection=redis.client, serializer=JobSerializer)
        ids = registry.get_job_ids(0, limit - 1)
        for job in Job.fetch_many(ids, connection=redis.client, serializer=JobSerializer):
            if job is None:
                continue
            found += 1
            last = (job.latest_result().exc_string or "").strip().splitlines() if job.latest_result() else []
            click.echo(f"{name}\t{job.id}\t{job.func_name}\t{job.args}\t{last[-1] if last else ''}")
    if not found:
        click.echo("no failed jobs")


@jobs_group.command("requeue", help="Put a failed job back on its queue.")
@click.argument("job_id")
def jobs_requeue(job_id: str) -> None:
    for name in QUEUE_NAMES:
        registry = FailedJobRegistry(name, connection=redis.client, serializer=JobSerializer)
        if job_id in registry.get_job_ids():
            registry.requeue(job_id)
            click.echo(f"requeued {job_id} on {name}")
            return
    raise click.ClickException(f"{job_id} is not in any failed-job registry")


@jobs_group.command("enqueue", help="Enqueue a job function from the jobs package with JSON args.")
@click.argument("func")
@click.argument("args", nargs=-1)
@click.option("--queue", "queue_name", type=click.Choice(QUEUE_NAMES), default="low", show_default=True)
def jobs_enqueue(func: str, args: tuple[str, ...], queue_name: str) -> None:
    # Only our own job functions: the CLI must not become a way to run arbitrary callables.
    if not func.startswith("jobs.") or func.count(".") < 2:
        raise click.ClickException("FUNC must be a job in the jobs package, e.g. jobs.events.sweep_stale_events")
    parsed = [json.loads(a) for a in args]
    job = queues.enqueue(queue_name, func, *parsed, retry=None)
    click.echo(job.id)


@jobs_group.command("status", help="Show a job's status and result.")
@click.argument("job_id")
def jobs_status(job_id: str) -> None:
    job = Job.fetch_many([job_id], connection=redis.client, serializer=JobSerializer)[0]
    if job is None:
        raise click.ClickException(f"no job {job_id}")
    result = job.latest_result()
    click.echo(json.dumps({
        "id": job.id,
        "status": job.get_status().value,
        "result": result.return_value if result else None,
    }))


@click.command("keygen", help="Print a new Fernet key for NEARSTOCK_ENCRYPTION_KEY.")
def keygen() -> None:
    click.echo(Fernet.generate_key().decode())


@click.command("rotate-keys", help="Re-encrypt every stored secret with the first configured key.")
def rotate_keys() -> None:
    from integration.shops.secrets import rotate_all

    count = rotate_all()
    click.echo(f"re-encrypted {count} secrets")
