"""Render docs/indicators.md from the catalogue, so the documentation never drifts."""

from __future__ import annotations

from pathlib import Path

from riskwatch.indicators.catalogue import Catalogue, Indicator
from riskwatch.indicators.templates import IN_FORCE_RULES, TEMPLATE_DOCS

DOCS_PATH = Path(__file__).resolve().parents[3] / "docs" / "indicators.md"
"""Where the generated catalogue documentation lives."""

_DIRECTION = {
    "higher_riskier": "↑ 越高风险越高 / higher = riskier",
    "lower_riskier": "↓ 越低风险越高 / lower = riskier",
    "neutral": "— 中性 / neutral",
}
_MISSING = {"zero": "0 (无记录 / no record)", "null": "空值 / missing (NULL)"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _how(ind: Indicator) -> str:
    parts = [f"`{ind.template}`"]
    if ind.source:
        parts.append(f"`{ind.source}`")
    if ind.known_on:
        parts.append(f"known: `{ind.known_on}`")
    if ind.anchor:
        off = f"{ind.anchor_offset_days:+d} d" if ind.anchor_offset_days else ""
        parts.append(f"from: `{ind.anchor}`{off}")
    if ind.window:
        parts.append(f"window: {ind.window}")
    if ind.until:
        parts.append(f"until: `{ind.until}`")
    if ind.in_force != "none":
        parts.append(f"in force: `{ind.in_force}`")
    for c in (*ind.where, *ind.flag):
        vals = ", ".join(str(v) for v in c.values)
        parts.append(f"`{c.column}` {c.op} {vals}".rstrip())
    if ind.value:
        parts.append(f"value: `{ind.value}`")
    if ind.link:
        parts.append(f"link: {ind.link}")
    if ind.of:
        parts.append("of: " + ", ".join(f"`{r}`" for r in ind.of))
    return "; ".join(parts)


def render(catalogue: Catalogue) -> str:
    """The Markdown documentation of a catalogue (Chinese and English)."""
    total = sum(1 for _ in catalogue.all())
    lines = [
        "# 企业信用风险分类指标 · Indicator catalogue",
        "",
        "<!-- Generated from config/indicators.yaml by `riskwatch indicators docs`. "
        "Do not edit. -->",
        "",
        f"Catalogue version `{catalogue.config_version}` · {len(catalogue.dimensions)} first-level "
        f"dimensions · {sum(len(d.groups) for d in catalogue.dimensions)} second-level groups · "
        f"{total} third-level indicators ({len(catalogue.outputs())} in snapshots).",
        "",
        "Every indicator is computed per enterprise alive at the as-of date (established on or "
        "before it, not deregistered on or before it) from records whose knowledge date is on or "
        "before as-of. Windows are `(as_of − window, as_of]`; a year is 365 days. Enterprise "
        "attributes (type, capital, address, legal representative) are the current registration "
        "record; superseded versions in `enterprises__history` are not used yet.",
        "",
        "每个指标按统计日 (as-of) 计算：仅使用在统计日当天或之前已知的记录；"
        "窗口为 (统计日 − 窗口, 统计日]。",
        "",
        "## 模板 · Templates",
        "",
        "| template | meaning |",
        "|---|---|",
        *[f"| `{k}` | {_cell(v)} |" for k, v in TEMPLATE_DOCS.items()],
        "",
        "## 影响期规则 · In-force rules",
        "",
        "| rule | meaning |",
        "|---|---|",
        *[f"| `{k}` | {_cell(r.description)} |" for k, r in IN_FORCE_RULES.items()],
        "",
    ]
    for dim in catalogue.dimensions:
        lines += [f"## {dim.name_zh} · {dim.name_en}", ""]
        for grp in dim.groups:
            lines += [
                f"### {grp.name_zh} · {grp.name_en}",
                "",
                "| id | 指标 · indicator | definition | direction | missing | reason (zh / en) |",
                "|---|---|---|---|---|---|",
            ]
            for ind in grp.indicators:
                status = "" if ind.enabled else " *(planned, not computed)*"
                status += "" if ind.output or not ind.enabled else " *(helper, not stored)*"
                lines.append(
                    f"| `{ind.id}`{status} | {_cell(ind.name_zh)}<br>{_cell(ind.name_en)} | "
                    f"{_cell(ind.description)}<br><small>{_cell(_how(ind))}</small> | "
                    f"{_DIRECTION[ind.direction]} | {_MISSING[ind.missing]} | "
                    f"{_cell(ind.reason_zh)}<br>{_cell(ind.reason_en)} |"
                )
            lines.append("")
    return "\n".join(lines)


def write_docs(catalogue: Catalogue, path: Path = DOCS_PATH) -> Path:
    """Write the rendered documentation; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(catalogue), encoding="utf-8")
    return path
