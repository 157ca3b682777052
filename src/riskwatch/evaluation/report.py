"""The self-contained evaluation report: HTML (plots as embedded PNG, 中文 and English) + JSON."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def figures(data: dict[str, Any]) -> dict[str, str]:
    """ROC, cumulative gain, calibration and discovery-ladder plots as base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    fams = data["families"]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    for name, f in fams.items():
        ax.plot(f["roc"]["fpr"], f["roc"]["tpr"], label=f"{name} AUC {f['auc']:.3f}")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax.legend(fontsize=7)
    out["roc"] = _png(fig)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    for name, f in fams.items():
        ax.plot([0, *f["gain"]["share"]], [0, *f["gain"]["gain"]], label=name)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(
        xlabel="share inspected (riskiest first)",
        ylabel="share of problems found",
        title="Cumulative gain",
    )
    ax.legend(fontsize=7)
    out["gain"] = _png(fig)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    for name, f in fams.items():
        ax.plot(f["calibration"]["predicted"], f["calibration"]["observed"], "o-", ms=3, label=name)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="predicted P(problem)", ylabel="observed rate", title="Calibration")
    ax.legend(fontsize=7)
    out["calibration"] = _png(fig)
    ladder = data["classes"]["discovery"]
    ks = [k for k in ("A", "B", "C", "D") if k in ladder]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    rates = np.array([ladder[k]["rate"] for k in ks])
    err = np.array(
        [
            [ladder[k]["rate"] - ladder[k]["low"] for k in ks],
            [ladder[k]["high"] - ladder[k]["rate"] for k in ks],
        ]
    )
    ax.bar(
        ks,
        rates,
        yerr=err,
        capsize=4,
        color=["#4caf50", "#ffc107", "#ff9800", "#f44336"][: len(ks)],
    )
    ax.set(ylim=(0, 1), xlabel="class", ylabel="problem-discovery rate", title="Discovery ladder")
    out["ladder"] = _png(fig)
    return out


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>—</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in r.values()) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def render_html(data: dict[str, Any]) -> str:
    """The report as one HTML page (no external resources)."""
    figs = figures(data)
    fam_rows = [
        {
            "family / 模型": k,
            "AUC": f["auc"],
            "KS": f["ks"],
            "Brier": f["brier"],
            "precision@capacity / 检查容量内命中率": f["precision_at_capacity"],
            "champion / 冠军": "★" if k == data.get("champion_family") else "",
        }
        for k, f in data["families"].items()
    ]
    ladder = [{"class / 分类": k, **v} for k, v in data["classes"]["discovery"].items()]
    mix = [
        {"class / 分类": k, "enterprises / 企业数": v} for k, v in data["classes"]["mix"].items()
    ]
    mig = data["classes"].get("migration") or {}
    mig_rows = [{"from \\ to": a, **row} for a, row in mig.items()]
    groups = []
    for dim in ("region_code", "industry_code"):
        groups.append(f"<h3>{dim}</h3>" + _table(data["by_group"].get(dim, [])))
    champ = html.escape(str(data.get("champion")))
    psi = _fmt(data["classes"].get("psi"))
    imgs = "".join(f'<img alt="{k}" src="data:image/png;base64,{v}">' for k, v in figs.items())
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>riskwatch 评估报告 · evaluation {html.escape(data["as_of"])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px}}img{{margin:4px}}</style></head><body>
<h1>企业信用风险分类评估报告 · Evaluation report</h1>
<p>统计日 as-of {html.escape(data["as_of"])} · 检验样本 graded inspections: {data["labels"]}
 ({html.escape(data["label_source"])}) · 冠军模型 champion: {champ}</p>
<h2>各模型对比 · Model families side by side</h2>{_table(fam_rows)}
<p>oracle AUC (generator truth): {_fmt(data.get("oracle_auc"))}</p>
<h2>分类问题发现率 · Problem-discovery rate per class (95% CI)</h2>{_table(ladder)}
<h2>分类结构 · Class mix</h2>{_table(mix)}
<h2>分类迁移 · Month-to-month migration</h2>{_table(mig_rows)}
<p>PSI of scores vs previous month: {psi}</p>
<h2>分区域、分行业 · By region and industry (⚠ = disparity)</h2>{"".join(groups)}
<h2>图 · Figures</h2>{imgs}
</body></html>"""
