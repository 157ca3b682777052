// 企业画像: basics, class and its signals, class history, indicators, timeline, cases, graph.
import { api, badge, card, chart, COLORS, go, h, query, state, t, table } from "../core.js";

const RECORDS = { changes: "变更", annual_reports: "年报", abnormal_listings: "经营异常", serious_violations: "严重违法失信",
  penalties: "行政处罚", complaints: "投诉举报", inspections: "检查", licences: "许可", judgments: "司法", dishonest: "失信被执行人",
  pledges: "出质", opinions: "舆情" };

function search(view, arg) {
  const input = h("input", { id: "portrait-q", value: arg || "", "aria-describedby": "portrait-hint" });
  const out = h("div");
  const run = async () => {
    const r = await api(`/api/enterprises${query({ q: input.value, limit: 20 })}`);
    out.replaceChildren(table([{ key: "name", label: t("name") }, { key: "uscc", label: t("uscc") }, { key: "region_code", label: t("region") }],
      r.items, { onRow: (x) => go(`#/portrait/${x.uscc}`) }));
  };
  view.append(h("h1", {}, t("portrait")), h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); run(); } },
    h("label", { for: "portrait-q" }, `${t("name")} / ${t("uscc")}`, input), h("button", { type: "submit" }, t("search"))),
  h("p", { id: "portrait-hint", class: "muted" }, t("drill")), out);
  return run();
}

function timeline(records) {
  const items = [];
  for (const [table_, rows] of Object.entries(records || {})) {
    for (const r of rows) {
      const date = Object.entries(r).find(([k, v]) => /(_on|^year)$/.test(k) && v)?.[1];
      const text = Object.entries(r).filter(([k, v]) => v !== null && v !== "" && !/(_on|^year)$/.test(k)).slice(0, 3).map(([, v]) => v).join(" · ");
      items.push({ date: String(date ?? ""), kind: RECORDS[table_] || table_, text });
    }
  }
  items.sort((a, b) => b.date.localeCompare(a.date));
  return items.length
    ? h("ol", { class: "timeline", "aria-label": t("timeline") }, items.slice(0, 200).map((i) => h("li", {}, h("b", {}, i.date), h("span", { class: "tag" }, i.kind), i.text)))
    : h("p", { class: "muted" }, t("noData"));
}

async function drawGraph(el, uscc, depth) {
  const g = await api(`/api/web/enterprises/${uscc}/graph?depth=${depth}`);
  const nodes = g.nodes.slice(0, 400).map((n) => ({
    id: n.id, name: n.label || n.id, value: n.kind,
    symbol: n.kind === "P" ? "circle" : "rect", symbolSize: n.id === g.root ? 26 : n.kind === "P" ? 10 : 16,
    itemStyle: { color: n.risk_class ? COLORS[n.risk_class] : n.kind === "P" ? "#9aa5b1" : "#52606d",
      borderColor: ["C", "D"].includes(n.risk_class) ? "#000" : undefined, borderWidth: ["C", "D"].includes(n.risk_class) ? 2 : 0 },
    label: { show: n.id === g.root || ["C", "D"].includes(n.risk_class), formatter: `${n.label || ""}${n.risk_class ? ` [${n.risk_class}]` : ""}` },
    uscc: n.kind === "E" ? n.id : null,
  }));
  const ids = new Set(nodes.map((n) => n.id));
  const c = chart(el, {
    tooltip: { formatter: (p) => (p.dataType === "edge" ? p.data.role : `${p.data.name}${p.data.uscc ? `<br>${p.data.uscc}` : ""}`) },
    series: [{ type: "graph", layout: "force", roam: true, draggable: true, force: { repulsion: 90, edgeLength: 50 },
      data: nodes, links: g.edges.filter((e) => ids.has(e.src) && ids.has(e.dst)).map((e) => ({ source: e.src, target: e.dst, role: e.role })),
      lineStyle: { color: "#9aa5b1" } }],
  }, "graph");
  c.on("dblclick", (p) => { if (p.data?.uscc && p.data.uscc !== uscc) go(`#/portrait/${p.data.uscc}`); });
  return g;
}

export async function render(view, { arg }) {
  if (!arg || arg.length !== 18) return search(view, arg);
  const [p, classes, cat, cases] = await Promise.all([
    api(`/api/enterprises/${arg}`), api(`/api/web/enterprises/${arg}/classes`),
    api("/api/web/indicators"), api(`/api/web/cases${query({ uscc: arg, limit: 50 })}`).catch(() => ({ items: [] })),
  ]);
  const b = p.basics;
  const current = classes.history.at(-1)?.class;
  const reasonOf = {};
  for (const d of cat.dimensions) for (const g of d.groups) for (const i of g.indicators) reasonOf[i.id] = i;
  const signals = [];
  for (const rows of Object.values(p.indicators.dimensions)) for (const r of rows) {
    const i = reasonOf[r.id];
    if (i && i.direction === "higher_riskier" && r.value) signals.push({ ...r, reason: (state.lang === "zh" ? i.reason_zh : i.reason_en).replaceAll("{value}", r.value) });
  }
  const dl = h("dl", { class: "basics" }, ...[["uscc", b.uscc], ["type", b.entity_type], ["status", b.status], ["established", b.established_on],
    ["capital", b.registered_capital], ["legalRep", b.legal_rep_name], ["authority", b.authority], ["address", b.address], ["region", b.region_code]]
    .flatMap(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v ?? "–")]));
  const radarEl = h("div", { class: "chart", id: "radar", role: "img", "aria-label": t("indicatorValues") });
  const histEl = h("div", { class: "chart", id: "history", role: "img", "aria-label": t("history") });
  const graphEl = h("div", { class: "chart tall", id: "graph", role: "img", "aria-label": t("graph") });
  const depth = h("select", { id: "graph-depth" }, h("option", { value: "1" }, "1"), h("option", { value: "2" }, "2"));
  depth.addEventListener("change", () => { state.charts = state.charts.filter((c) => c.name !== "graph" || (c.chart.dispose(), false)); drawGraph(graphEl, arg, depth.value); });
  const mine = cases.items.filter((c) => c.uscc === b.uscc);
  view.append(
    h("h1", {}, b.name, " ", badge(current)),
    h("div", { class: "grid" },
      card(t("basics"), dl, p.tags?.length ? h("p", {}, p.tags.map((x) => h("span", { class: "tag" }, x.name || x))) : null),
      card(`${t("currentClass")}: ${current || "–"}`, signals.length
        ? h("ul", { id: "reasons" }, signals.slice(0, 12).map((s) => h("li", {}, s.reason || s.name, h("span", { class: "muted" }, ` (${s.name} = ${s.value})`))))
        : h("p", { class: "muted" }, t("none")), classes.history.length ? histEl : null),
      card(t("indicatorValues"), radarEl),
      card(t("timeline"), timeline(p.records)),
      card(t("openCases"), table([{ key: "case_id", label: t("caseId") }, { key: "state", label: t("state") }, { key: "deadline", label: t("deadline") }],
        mine, { onRow: (c) => go(`#/alerts/${c.case_id}`), rowClass: (c) => (c.overdue ? "overdue" : null) })),
      card(t("graph"), h("div", { class: "toolbar" }, h("label", { for: "graph-depth" }, t("depth"), depth)), graphEl),
    ),
  );
  const dims = Object.entries(p.indicators.dimensions);
  chart(radarEl, {
    tooltip: {}, grid: { left: 110, right: 16, top: 10, bottom: 30 },
    xAxis: { type: "value", name: "#" }, yAxis: { type: "category", data: dims.map(([d]) => d) },
    series: [{ type: "bar", name: t("reasons"), data: dims.map(([, rows]) => rows.filter((r) => reasonOf[r.id]?.direction === "higher_riskier" && r.value).length), itemStyle: { color: COLORS.C } }],
  }, "radar");
  const lv = { A: 1, B: 2, C: 3, D: 4 };
  if (classes.history.length) chart(histEl, {
    tooltip: { trigger: "axis", formatter: (ps) => `${ps[0].name}: ${"ABCD"[ps[0].value - 1]}` }, grid: { left: 30, right: 10, top: 10, bottom: 24 },
    xAxis: { type: "category", data: classes.history.map((r) => r.month) },
    yAxis: { type: "value", min: 1, max: 4, interval: 1, axisLabel: { formatter: (v) => "ABCD"[v - 1] } },
    series: [{ type: "line", step: "middle", data: classes.history.map((r) => lv[r.class]) }],
  }, "history");
  await drawGraph(graphEl, arg, 1);
}
