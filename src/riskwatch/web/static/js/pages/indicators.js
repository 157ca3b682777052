// 指标与模型: the indicator catalogue by dimension; models and drift once scoring lands.
import { api, card, chart, COLORS, h, state, t, table } from "../core.js";

export async function render(view) {
  const cat = await api("/api/web/indicators");
  const rows = [];
  for (const d of cat.dimensions) for (const g of d.groups) for (const i of g.indicators) {
    const zh = state.lang === "zh";
    rows.push({ dim: zh ? d.name_zh : d.name_en, group: zh ? g.name_zh : g.name_en, id: i.id, name: zh ? i.name_zh : i.name_en,
      direction: t(i.direction), reason: zh ? i.reason_zh : i.reason_en });
  }
  const el = h("div", { class: "chart", id: "catalogue-chart", role: "img", "aria-label": t("catalogue") });
  view.append(h("h1", {}, t("indicators")), h("div", { class: "grid" },
    card(`${t("catalogue")} · ${cat.config_version} · ${rows.length}`, el),
    card(t("models"), h("p", { class: "muted" }, t("modelsPending")))),
  card(t("catalogue"), table([{ key: "dim", label: t("dimension") }, { key: "group", label: t("group") }, { key: "id", label: "ID" },
    { key: "name", label: t("indicator") }, { key: "direction", label: t("direction") }, { key: "reason", label: t("reasons") }], rows)));
  chart(el, {
    tooltip: {}, series: [{ type: "sunburst", radius: [0, "95%"], label: { rotate: "radial", fontSize: 10 },
      data: cat.dimensions.map((d, k) => ({ name: state.lang === "zh" ? d.name_zh : d.name_en, itemStyle: { color: Object.values(COLORS)[k % 4] },
        children: d.groups.map((g) => ({ name: state.lang === "zh" ? g.name_zh : g.name_en, value: g.indicators.length })) })) }],
  }, "catalogue");
}
