"""CLI commands: alerts scan|rules|feedback, export alerts, cases …, graph …."""

from __future__ import annotations

import datetime as dt
import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from riskwatch.cli.app import app, export_app
from riskwatch.cli.common import console, handle_errors, progress_bar
from riskwatch.errors import InputError
from riskwatch.settings import get_settings

alerts_app = typer.Typer(help="Early warning (监测预警): scan rules, list rules, feedback.")
cases_app = typer.Typer(help="Cases (闭环管理): list, show, assign, transition, escalate.")
graph_app = typer.Typer(help="Relationship graph (族谱关系): build, ego, person, path, cluster.")
app.add_typer(alerts_app, name="alerts")
app.add_typer(cases_app, name="cases")
app.add_typer(graph_app, name="graph")


ActorOpt = Annotated[str, typer.Option("--actor", help="who acts (default: the OS user)")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="why (required to return)")]
VersionOpt = Annotated[
    int | None, typer.Option("--version", help="the case version you saw (optimistic lock)")
]


def _date(text: str | None, flag: str) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{flag} {text!r} is not a date like 2025-06-30") from None


def _print_json(obj: Any) -> None:
    console.print_json(json.dumps(obj, ensure_ascii=False, default=str))


@alerts_app.command("scan")
@handle_errors
def scan(
    as_of: Annotated[str, typer.Option("--as-of", help="scan date, YYYY-MM-DD")],
    rule: Annotated[list[str] | None, typer.Option("--rule", help="only these rules")] = None,
    rules: Annotated[Path | None, typer.Option(help="rules YAML")] = None,
) -> None:
    """Raise the new alerts of a date (a re-run raises nothing new) and open cases."""
    from riskwatch.services import alerts as svc

    day = _date(as_of, "--as-of")
    service = svc.ScanService(get_settings(), rules)
    with progress_bar() as bar:
        task = bar.add_task("alerts", total=None)
        result = service.run(
            day, only=rule, note=lambda r: bar.update(task, description=f"rule {r}")
        )
    report, escalated = result.report, result.escalated
    table = Table("rule", "hits", "raised", "known", "deduplicated", "suppressed", "s")
    for rid in report.hits:
        table.add_row(
            rid,
            str(report.hits[rid]),
            str(report.raised[rid]),
            str(report.already_known[rid]),
            str(report.deduplicated[rid]),
            str(report.suppressed[rid]),
            f"{report.seconds[rid]:.2f}",
        )
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(
        f"scan {report.scan_id}: {report.total_raised} new alerts, "
        f"{report.cases_opened} cases opened, {report.cases_joined} joined, "
        f"{len(escalated)} overdue cases escalated"
    )


@alerts_app.command("rules")
@handle_errors
def rules_cmd(rules: Annotated[Path | None, typer.Option(help="rules YAML")] = None) -> None:
    """Validate the rules file and list its rules."""
    from riskwatch.services import alerts as svc

    ruleset, digest = svc.rules_summary(rules)
    table = Table("id", "名称", "name", "severity", "department", "suppression (d)")
    for r in ruleset.rules:
        table.add_row(
            r.id, r.name_zh, r.name_en, r.severity, ruleset.departments[r.domain],
            str(r.suppression_days),
        )  # fmt: skip
    console.print(table)
    console.print(f"rules {ruleset.config_version} ({digest}): valid")


@alerts_app.command("feedback")
@handle_errors
def feedback() -> None:
    """Per rule: confirmed, false positives, median days to closure."""
    from riskwatch.services import cases as cases_svc

    table = Table("rule", "raised", "open", "confirmed", "false +", "precision", "median days")
    for f in cases_svc.feedback(get_settings()):
        table.add_row(
            f.rule, str(f.raised), str(f.open), str(f.confirmed), str(f.false_positive),
            "-" if f.precision is None else f"{f.precision:.2f}",
            "-" if f.median_days_to_closure is None else f"{f.median_days_to_closure:g}",
        )  # fmt: skip
    console.print(table)


@export_app.command("alerts")
@handle_errors
def export_alerts(
    out: Annotated[Path, typer.Option("--out", help="target .csv or .xlsx")],
    rule: Annotated[str | None, typer.Option("--rule", help="only this rule")] = None,
) -> None:
    """Export alerts: alert_id, rule, uscc, severity, raised_on, state, department, evidence."""
    from riskwatch.services import alerts as svc

    n = svc.export_alerts(get_settings(), out, rule)
    console.print(f"wrote {n} alerts to {out}")


@cases_app.command("list")
@handle_errors
def list_cases(
    state: Annotated[
        str | None, typer.Option(help="待分派 已分派 核查中 已处置 已办结 误报")
    ] = None,
    department: Annotated[str | None, typer.Option()] = None,
    assignee: Annotated[str | None, typer.Option()] = None,
    uscc: Annotated[str | None, typer.Option()] = None,
    overdue_on: Annotated[str | None, typer.Option(help="only cases overdue on this date")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
) -> None:
    """List cases, most urgent deadline first."""
    from riskwatch.services import cases as cases_svc

    rows = cases_svc.list_cases(
        get_settings(),
        state=state,
        department=department,
        assignee=assignee,
        uscc=uscc,
        overdue_on=None if overdue_on is None else _date(overdue_on, "--overdue-on"),
        limit=limit,
    )
    table = Table("case", "uscc", "state", "sev", "department", "assignee", "deadline", "esc", "v")
    for c in rows:
        table.add_row(
            c.case_id, c.uscc, c.state, c.severity, c.department, c.assignee or "",
            c.deadline.isoformat(), str(c.escalation_level), str(c.version),
        )  # fmt: skip
    console.print(table)


@cases_app.command("show")
@handle_errors
def show(case_id: str) -> None:
    """A case with its alerts (and evidence) and its history."""
    from riskwatch.services import cases as cases_svc

    _print_json(cases_svc.get_case(get_settings(), case_id).model_dump(mode="json"))


@cases_app.command("assign")
@handle_errors
def assign(
    case_id: str,
    assignee: str,
    actor: ActorOpt = "",
    note: NoteOpt = None,
    version: VersionOpt = None,
) -> None:
    """Assign (or reassign) a case."""
    from riskwatch.services import cases as cases_svc

    case = cases_svc.assign(
        get_settings(),
        case_id,
        assignee,
        actor=actor or getpass.getuser(),
        note=note,
        expected_version=version,
    )
    console.print(f"{case.case_id}: {case.state}, assignee {case.assignee}, v{case.version}")


@cases_app.command("transition")
@handle_errors
def transition(
    case_id: str,
    action: Annotated[
        str, typer.Argument(help="start | return | dispose | close | false_positive")
    ],
    actor: ActorOpt = "",
    note: NoteOpt = None,
    version: VersionOpt = None,
    measure: Annotated[
        list[str] | None, typer.Option("--measure", help="提醒 警示 约谈 检查 立案 (dispose)")
    ] = None,
    on: Annotated[str | None, typer.Option("--on", help="business date (default today)")] = None,
    assignee: Annotated[str | None, typer.Option(help="for assign")] = None,
) -> None:
    """Move a case along the workflow (only the transitions in the table are allowed)."""
    from riskwatch.services import cases as cases_svc

    case = cases_svc.transition(
        get_settings(),
        case_id,
        action,
        actor=actor or getpass.getuser(),
        note=note,
        expected_version=version,
        measures=measure,
        assignee=assignee,
        on=None if on is None else _date(on, "--on"),
    )
    console.print(f"{case.case_id}: {case.state}, v{case.version}")


@cases_app.command("escalate")
@handle_errors
def escalate(
    on: Annotated[str | None, typer.Option("--on", help="date (default today)")] = None,
) -> None:
    """Escalate every unfinished case past its deadline."""
    from riskwatch.services import cases as cases_svc

    ids = cases_svc.escalate_overdue(get_settings(), _date(on, "--on"))
    console.print(f"{len(ids)} cases escalated")


@graph_app.command("build")
@handle_errors
def build(as_of: Annotated[str, typer.Option("--as-of", help="YYYY-MM-DD")]) -> None:
    """Build the graph: links, clusters, related-party risk (graph/ under RISKWATCH_HOME)."""
    from riskwatch.services import alerts as svc

    with progress_bar() as bar:
        bar.add_task("graph build", total=None)
        result = svc.build_graph(get_settings(), _date(as_of, "--as-of"))
    _print_json(result.as_dict())


@graph_app.command("ego")
@handle_errors
def ego(uscc: str, depth: Annotated[int, typer.Option(min=1, max=3)] = 2) -> None:
    """An enterprise's ego network (nodes and links within DEPTH hops)."""
    from riskwatch.graph import query

    _print_json(query.Graph(get_settings()).ego(uscc, depth))


@graph_app.command("person")
@handle_errors
def person(person_id: Annotated[str, typer.Argument(help="the pseudonymised person id")]) -> None:
    """All enterprises behind a person."""
    from riskwatch.graph import query

    _print_json(query.Graph(get_settings()).enterprises_of_person(person_id))


@graph_app.command("path")
@handle_errors
def path(a: str, b: str, max_hops: Annotated[int, typer.Option(min=1, max=12)] = 8) -> None:
    """A shortest path between two enterprises."""
    from riskwatch.graph import query

    _print_json(query.Graph(get_settings()).shortest_path(a, b, max_hops))


@graph_app.command("cluster")
@handle_errors
def cluster(uscc: str) -> None:
    """The cluster (joined by shared persons or address) an enterprise belongs to."""
    from riskwatch.graph import query

    _print_json(query.cluster_of(get_settings(), uscc))


@graph_app.command("clusters")
@handle_errors
def clusters(top: Annotated[int, typer.Option(min=1, max=1000)] = 20) -> None:
    """The largest clusters."""
    from riskwatch.graph import query

    _print_json(query.largest_clusters(get_settings(), top).to_pylist())
