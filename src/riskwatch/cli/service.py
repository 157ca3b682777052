"""CLI commands of the service: serve, users, tokens, audit verify, jobs."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from riskwatch.cli.app import app
from riskwatch.cli.common import console, err_console, handle_errors
from riskwatch.errors import InputError
from riskwatch.settings import get_settings

if TYPE_CHECKING:
    from riskwatch.services.users import UserService

users_app = typer.Typer(help="Accounts: add, list, unlock.", no_args_is_help=True)
tokens_app = typer.Typer(help="Partner tokens: issue, list, revoke.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
jobs_app = typer.Typer(help="Scheduled jobs and their history.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(jobs_app, name="jobs")


def _users() -> UserService:
    from riskwatch.auth.config import get_service_settings
    from riskwatch.services.users import UserService

    return UserService(get_settings(), get_service_settings())


@app.command()
@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="worker processes (each with its own copy of the hot data in memory; "
            "uploads need one)",
        ),
    ] = 1,
    schedule: Annotated[bool, typer.Option(help="run the job scheduler in-process")] = False,
    index: Annotated[bool, typer.Option(help="create uscc indexes in the warehouse")] = True,
    preload: Annotated[
        bool, typer.Option(help="read the profile copies into memory before serving")
    ] = True,
) -> None:
    """Run the HTTP service (OpenAPI at /docs)."""
    import uvicorn
    from pydantic import ValidationError

    from riskwatch.auth.config import get_service_settings
    from riskwatch.services import jobs
    from riskwatch.store.enterprise_reads import (
        WarehouseReader,
        ensure_read_indexes,
        prune_serving,
        serving_copies,
    )
    from riskwatch.store.warehouse import open_warehouse, read_hold

    settings = get_settings()
    try:
        get_service_settings()  # refuse default secrets before binding a port
    except ValidationError as exc:
        raise InputError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    if index and settings.warehouse_path.exists():
        with open_warehouse(settings.warehouse_path) as con:
            ensure_read_indexes(con)
        # a load meanwhile (minutes at 1 M) waits for the copies, as for any reader
        with read_hold(settings.warehouse_path):
            reader = WarehouseReader(
                settings.warehouse_path, settings.threads, settings.memory_limit
            )
            try:
                serving_copies(reader, settings.home, wait=True)
                prune_serving(reader, settings.home)  # copies of earlier runs and loads
            finally:
                reader.close()
    if preload:  # read by the app's start-up (in this process, or each worker)
        os.environ["RISKWATCH_SERVE_PRELOAD"] = "1"
        get_settings.cache_clear()
    if workers > 1:  # read by each worker's settings
        os.environ["RISKWATCH_WORKERS"] = str(workers)
        if not settings.memory_limit:  # DuckDB's default is 80 % of the machine per worker
            os.environ["RISKWATCH_MEMORY_LIMIT"] = worker_memory_limit(workers)
    if schedule:
        jobs.start_scheduler(settings)
    console.print(f"riskwatch serving on http://{host}:{port} (docs at /docs)")
    # A worker starts by importing riskwatch again (spawn), several seconds on a busy
    # machine: uvicorn's 5 s health check killed and restarted it forever.
    uvicorn.run("riskwatch.api:create_app", factory=True, host=host, port=port,
                workers=workers, log_level="warning",
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS)  # fmt: skip


WORKER_HEALTHCHECK_SECONDS = 60
"""How long a worker may not answer uvicorn's supervisor before it is restarted."""


def worker_memory_limit(workers: int) -> str:
    """Each worker's DuckDB memory limit: three quarters of the machine, shared."""
    import psutil

    return f"{max(1, int(psutil.virtual_memory().total * 0.75 / workers / 2**30))}GB"


@users_app.command("add")
@handle_errors
def users_add(
    name: Annotated[str, typer.Argument(help="user name")],
    role: Annotated[str, typer.Option(help="admin | analyst | inspector | partner")],
    region: Annotated[str, typer.Option(help="region scope, e.g. 410105")],
) -> None:
    """Add an account; the password is read from stdin (not for partners)."""
    from riskwatch.auth.config import get_service_settings
    from riskwatch.services import audit

    password = None
    if role != "partner":
        if sys.stdin.isatty():
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise InputError("no password on stdin")
    user_id = _users().add_user(name, role, region, password)
    s = get_settings()
    audit.record(
        s, get_service_settings(), "cli", "user.add", name, {"role": role, "region": region}
    )
    console.print(f"user {name} ({role}, region {region}) added, id {user_id}")


@users_app.command("list")
@handle_errors
def users_list() -> None:
    """List accounts."""
    for u in _users().list_users():
        state = ("active" if u["active"] else "disabled") + (" locked" if u["locked"] else "")
        console.print(f"{u['id']:>4} {u['name']:<24} {u['role']:<10} {u['region']} {state}")


@users_app.command("unlock")
@handle_errors
def users_unlock(name: Annotated[str, typer.Argument()]) -> None:
    """Lift a lockout after repeated failed logins."""
    from riskwatch.auth.config import get_service_settings
    from riskwatch.services import audit

    _users().unlock(name)
    audit.record(get_settings(), get_service_settings(), "cli", "user.unlock", name)
    console.print(f"{name} unlocked")


@tokens_app.command("issue")
@handle_errors
def tokens_issue(
    partner: Annotated[str, typer.Option(help="the partner account")],
    fields: Annotated[str, typer.Option(help="comma-separated fields, e.g. class,score")],
    expires: Annotated[str, typer.Option(help="lifetime: 90d, 12h, 30m")] = "90d",
) -> None:
    """Issue a partner token; it is printed once, only its hash is kept."""
    from riskwatch.auth.config import get_service_settings
    from riskwatch.services import audit

    issued = _users().issue_partner_token(partner, fields.split(","), expires)
    audit.record(get_settings(), get_service_settings(), "cli", "token.issue", partner,
                 {"token": issued.token_id, "fields": fields, "expires": expires})  # fmt: skip
    err_console.print(
        f"token {issued.token_id} for {partner}, expires {issued.expires_at:%Y-%m-%d}"
    )
    print(issued.token)


@tokens_app.command("list")
@handle_errors
def tokens_list() -> None:
    """List tokens (never their values)."""
    for t in _users().list_tokens():
        console.print(f"{t['id']:>5} {t['kind']:<8} {t['user']!s:<24} {str(t['expires_at'])[:10]} "
                      f"{'revoked' if t['revoked'] else ''} {t['fields'] or ''}")  # fmt: skip


@tokens_app.command("revoke")
@handle_errors
def tokens_revoke(token_id: Annotated[int, typer.Argument()]) -> None:
    """Revoke a token at once."""
    from riskwatch.auth.config import get_service_settings
    from riskwatch.services import audit

    _users().revoke(token_id)
    audit.record(get_settings(), get_service_settings(), "cli", "token.revoke", str(token_id))
    console.print(f"token {token_id} revoked")


@audit_app.command("verify")
@handle_errors
def audit_verify() -> None:
    """Check the chain; exit 1 naming the first edited, removed or reordered entry."""
    from riskwatch.auth.config import get_service_settings
    from riskwatch.services import audit

    report = audit.verify(get_settings(), get_service_settings())
    if report.ok:
        console.print(f"audit log intact: {report.entries} entries")
        return
    for problem in report.problems:
        err_console.print(f"[bold red]tampered:[/] {problem}")
    raise typer.Exit(code=1)


@jobs_app.command("run")
@handle_errors
def jobs_run(
    name: Annotated[str, typer.Argument(help="classify | alert-scan")],
    retries: Annotated[int, typer.Option(help="retries after a failure")] = 2,
) -> None:
    """Run a job now (what the scheduler or a systemd timer calls), with history."""
    from riskwatch.services import jobs

    attempts = jobs.run_job(get_settings(), name, retries=retries)
    for a in attempts:
        console.print(f"attempt {a['attempt']}: {a['status']} {a['error'] or ''}")
    if attempts[-1]["status"] != "done":
        raise typer.Exit(code=1)


@jobs_app.command("history")
@handle_errors
def jobs_history(limit: Annotated[int, typer.Option()] = 20) -> None:
    """Show recent job runs."""
    from riskwatch.services import jobs

    _total, rows = jobs.history(get_settings(), limit)
    for r in rows:
        console.print(f"{r['id']:>5} {r['job']:<12} {r['status']:<8} {r['started_at'][:19]} "
                      f"{r['run_id'] or ''} {r['counts'] or ''}")  # fmt: skip
