// 区域与行业分析: tables and charts by region and industry, drill-down to the enterprise list.
import { api, card, chart, COLORS, fmtPct, go, h, query, t, table } from "../core.js";
import { industryName } from "./cockpit.js";
import { regionLevel, regionMap } from "./maps.js";

export async function render(view, { params }) {
  const region = params.get("region") || "";
  const industry = params.get("industry") || "";
  const offset = Number(params.get("offset") || 0);
  const [d, list] = await Promise.all([
    api("/api/web/cockpit"),
    region || industry ? api(`/api/enterprises${query({ region, industry, limit: 50, offset })}`) : null,
  ]);
  const level = regionLevel(d.region);
  const names = await regionMap(level).names();
  const mapEl = h("div", { class: "chart tall", id: "area-map", role: "img", "aria-label": t("map") });
  const barEl = h("div", { class: "chart tall", id: "industry-bars", role: "img", "aria-label": t("byIndustry") });
  const cols = (label) => [{ key: "label", label }, { key: "total", label: t("count") }, { key: "cd", label: t("cd"), render: (r) => r.cd ?? "–" },
    { key: "share", label: t("cdShare"), render: (r) => fmtPct(r.share) }];
  const regions = d.regions.map((r) => ({ ...r, label: `${names[r.key] || ""} ${r.key}` }));
  const industries = d.industries.map((r) => ({ ...r, label: industryName(r.key) }));
  view.append(h("h1", {}, t("areas")));
  if (list) {
    const base = { region, industry };
    view.append(card(`${t("list")} · ${region ? names[region] || region : ""} ${industry ? industryName(industry) : ""} (${list.total})`,
      table([{ key: "name", label: t("name") }, { key: "uscc", label: t("uscc") }, { key: "region_code", label: t("region") },
        { key: "industry_code", label: t("industry") }, { key: "status", label: t("status") }, { key: "established_on", label: t("established") }],
      list.items, { onRow: (x) => go(`#/portrait/${x.uscc}`) }),
      h("div", { class: "toolbar" },
        offset > 0 ? h("a", { class: "button secondary", href: `#/areas${query({ ...base, offset: offset - 50 })}` }, t("prev")) : null,
        offset + 50 < list.total ? h("a", { class: "button secondary", href: `#/areas${query({ ...base, offset: offset + 50 })}` }, t("next")) : null,
        h("a", { class: "button secondary", id: "list-export", href: `/api/enterprises/export${query(base)}`, download: "enterprises.xlsx" }, t("export")))));
  }
  view.append(h("div", { class: "grid" },
    card(t("byRegion"), mapEl, table(cols(t("region")), regions, { onRow: (r) => go(`#/areas?region=${r.key}`) }),
      h("a", { class: "button secondary", href: "/api/web/areas/export?by=regions", download: "regions.xlsx" }, t("export"))),
    card(t("byIndustry"), barEl, table(cols(t("industry")), industries, { onRow: (r) => go(`#/areas?industry=${r.key}`) }),
      h("a", { class: "button secondary", href: "/api/web/areas/export?by=industries", download: "industries.xlsx" }, t("export")))));
  await regionMap(level).draw(mapEl, d.regions, d.classes_available, (code) => go(`#/areas?region=${code}`));
  const ind = [...industries].sort((a, b) => a.total - b.total);
  const bars = chart(barEl, {
    tooltip: { trigger: "axis" }, legend: { bottom: 0 }, grid: { left: 110, right: 40, top: 10, bottom: 40 },
    xAxis: [{ type: "value", name: t("count") }, { type: "value", name: t("cdShare"), max: 1, show: d.classes_available }],
    yAxis: { type: "category", data: ind.map((r) => r.label) },
    series: [{ name: t("count"), type: "bar", data: ind.map((r) => r.total), itemStyle: { color: COLORS.B } },
      ...(d.classes_available ? [{ name: t("cdShare"), type: "line", xAxisIndex: 1, data: ind.map((r) => r.share), itemStyle: { color: COLORS.D } }] : [])],
  }, "industries");
  bars.on("click", (p) => go(`#/areas?industry=${ind[p.dataIndex].key}`));
}
