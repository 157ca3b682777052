// 总体概览: class mix and trend, the map of C/D shares, high-risk areas, alerts, exports.
import { api, card, chart, COLORS, fmtPct, go, h, state, t, table } from "../core.js";
import { regionLevel, regionMap } from "./maps.js";

const SECTIONS = { A: "农林牧渔", B: "采矿", C: "制造", D: "电热燃水", E: "建筑", F: "批发零售", G: "交通仓储",
  H: "住宿餐饮", I: "信息技术", J: "金融", K: "房地产", L: "租赁商务", M: "科研技术", N: "水利环境",
  O: "居民服务", P: "教育", Q: "卫生", R: "文体娱乐", S: "公共管理", T: "国际组织" };
export const industryName = (k) => (state.lang === "zh" && SECTIONS[k] ? `${k} ${SECTIONS[k]}` : k);

export async function render(view) {
  const d = await api("/api/web/cockpit");
  const level = regionLevel(d.region);
  const kpi = (label, value, cls) => h("div", { class: "kpi" }, h("b", { class: cls }, value), h("span", {}, label));
  const a = d.alerts;
  const open = Object.entries(a.by_state).filter(([s]) => !["已办结", "误报"].includes(s)).reduce((x, [, n]) => x + n, 0);
  view.append(
    h("h1", {}, `${t("cockpit")} · ${d.region}${d.month ? ` · ${d.month}` : ""}`),
    h("div", { class: "kpis" },
      kpi(t("enterprises"), d.enterprises.toLocaleString()),
      ...(d.mix ? ["A", "B", "C", "D"].map((c) => kpi(`${c} ${t("classes")}`, d.mix[c].toLocaleString())) : []),
      kpi(t("open"), open), kpi(t("opened30"), a.opened_30d), kpi(t("closed30"), a.closed_30d),
      kpi(t("overdue"), a.overdue, a.overdue ? "warn" : null)),
  );
  if (!d.classes_available) view.append(h("p", { class: "muted", role: "note" }, t("noClasses")));
  const mapEl = h("div", { class: "chart tall", id: "map", role: "img", "aria-label": d.classes_available ? t("map") : t("mapCount") });
  const mixEl = h("div", { class: "chart", id: "mix", role: "img", "aria-label": t("classMix") });
  const trendEl = h("div", { class: "chart", id: "trend", role: "img", "aria-label": t("classTrend") });
  const alertEl = h("div", { class: "chart", id: "alerts-chart", role: "img", "aria-label": t("alertsSummary") });
  const byShare = (rows) => [...rows].sort((x, y) => (y.share ?? y.total) - (x.share ?? x.total) || y.total - x.total).slice(0, 8);
  const names = await regionMap(level).names();
  const regionRows = byShare(d.regions).map((r) => ({ ...r, label: names[r.key] || r.key }));
  const industryRows = byShare(d.industries).map((r) => ({ ...r, label: industryName(r.key) }));
  const cols = [
    { key: "label", label: t("region") }, { key: "total", label: t("count") },
    { key: "cd", label: t("cd"), render: (r) => r.cd ?? "–" }, { key: "share", label: t("cdShare"), render: (r) => fmtPct(r.share) },
  ];
  view.append(h("div", { class: "grid" },
    card(d.classes_available ? t("map") : t("mapCount"), mapEl, h("p", { class: "muted" }, t("drill"))),
    d.classes_available ? h("div", { style: "display:grid;gap:12px" }, card(t("classMix"), mixEl), card(t("classTrend"), trendEl)) : null,
    card(t("highRiskRegions"), table(cols, regionRows, { onRow: (r) => go(`#/areas?region=${r.key}`) }),
      h("a", { class: "button secondary", href: "/api/web/areas/export?by=regions", download: "regions.xlsx" }, t("export"))),
    card(t("highRiskIndustries"), table([{ ...cols[0], label: t("industry") }, ...cols.slice(1)], industryRows,
      { onRow: (r) => go(`#/areas?industry=${r.key}`) }),
      h("a", { class: "button secondary", href: "/api/web/areas/export?by=industries", download: "industries.xlsx" }, t("export"))),
    card(t("alertsSummary"), alertEl),
  ));
  await regionMap(level).draw(mapEl, d.regions, d.classes_available, (code) => go(`#/areas?region=${code}`));
  const mix = d.mix || {};
  if (d.classes_available) chart(mixEl, {
    tooltip: { trigger: "item" }, legend: { bottom: 0 },
    series: [{ type: "pie", radius: ["40%", "70%"], label: { formatter: "{b}: {d}%" },
      data: ["A", "B", "C", "D"].map((c) => ({ name: c, value: mix[c] || 0, itemStyle: { color: COLORS[c] } })) }],
  }, "mix");
  if (d.classes_available) chart(trendEl, {
    tooltip: { trigger: "axis" }, legend: { bottom: 0 }, grid: { left: 50, right: 16, top: 16, bottom: 50 },
    xAxis: { type: "category", data: d.trend.map((r) => r.month) }, yAxis: { type: "value" },
    series: ["A", "B", "C", "D"].map((c) => ({ name: c, type: "bar", stack: "m", itemStyle: { color: COLORS[c] }, data: d.trend.map((r) => r[c]) })),
  }, "trend");
  const states = Object.entries(a.by_state);
  chart(alertEl, {
    tooltip: {}, grid: { left: 70, right: 16, top: 16, bottom: 30 },
    xAxis: { type: "value" }, yAxis: { type: "category", data: [...states.map(([s]) => s), t("overdue")] },
    series: [{ type: "bar", data: [...states.map(([, n]) => n), { value: a.overdue, itemStyle: { color: COLORS.D } }], itemStyle: { color: COLORS.B } }],
  }, "alerts");
}
