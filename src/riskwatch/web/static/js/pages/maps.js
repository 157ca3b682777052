// The bureau's map: province → its cities, city or district → the city's districts.
// Registered under "rw-<code>", never "china" (ECharts would add its own South China Sea inset).
import { chart, fmtPct, geo, regionNames, t } from "../core.js";

export function regionLevel(region) {
  const r = String(region || "000000");
  if (r === "000000") return { file: "100000", key: (c) => `${c.slice(0, 2)}0000` };
  if (r.endsWith("0000")) return { file: r, key: (c) => `${c.slice(0, 4)}00` };
  return { file: `${r.slice(0, 4)}00`, key: (c) => c, own: r.endsWith("00") ? null : r };
}

export function regionMap(level) {
  return {
    names: () => regionNames(level.file),
    async draw(el, rows, byShare, onPick) {
      const g = await geo(level.file);
      if (!g) { el.textContent = t("noData"); return null; }
      const name = `rw-${level.file}`;
      if (!echarts.getMap(name)) echarts.registerMap(name, g);
      const codeOf = {};
      const agg = {};
      for (const f of g.features) codeOf[f.properties.name] = String(f.properties.adcode);
      for (const r of rows) {
        const k = level.key(String(r.key));
        const a = (agg[k] ||= { total: 0, cd: 0 });
        a.total += r.total; a.cd += r.cd || 0;
      }
      const data = g.features.map((f) => {
        const a = agg[String(f.properties.adcode)];
        const value = a ? (byShare ? a.cd / a.total : a.total) : null;
        return { name: f.properties.name, value, total: a?.total ?? 0 };
      });
      const values = data.map((x) => x.value).filter((v) => v !== null);
      const c = chart(el, {
        tooltip: { trigger: "item", formatter: (p) => `${p.name}<br>${t("count")}: ${p.data?.total ?? 0}` +
          (byShare ? `<br>${t("cdShare")}: ${fmtPct(p.value)}` : "") },
        visualMap: { min: 0, max: Math.max(...values, byShare ? 0.01 : 1), calculable: true, left: 8, bottom: 8,
          text: [byShare ? t("cdShare") : t("count"), ""], inRange: { color: ["#e3effa", "#f4b183", "#c62828"] },
          formatter: (v) => (byShare ? fmtPct(v) : Math.round(v)) },
        series: [{ type: "map", map: name, roam: true, selectedMode: false, data,
          label: { show: true, fontSize: 11, color: "#1f2933" }, emphasis: { label: { show: true } } }],
      }, "map");
      c.on("click", (p) => { if (p.name && codeOf[p.name]) onPick(codeOf[p.name]); });
      // For tests and keyboard users: the region centres, to click or to list.
      el.dataset.centres = JSON.stringify(g.features.map((f) => [String(f.properties.adcode), f.properties.centroid || f.properties.center]));
      window.rwMap = c;
      return c;
    },
  };
}
