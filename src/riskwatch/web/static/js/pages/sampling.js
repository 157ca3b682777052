// 双随机: a plan with per-class ratios and preview counts, draw, verify, list with inspectors.
import { api, card, COLORS, field, h, t, table, toast } from "../core.js";

const DEFAULT = { A: 1, B: 2, C: 10, D: 30 };

export async function render(view) {
  const [d, plans] = await Promise.all([api("/api/web/cockpit"), api("/api/web/plans").catch((e) => ({ error: e.message }))]);
  const mix = d.mix || {};
  const name = h("input", { id: "plan-name", value: `${d.month || ""} 双随机抽查`, size: 24, required: true });
  const seed = h("input", { id: "plan-seed", value: String(Date.now()), size: 16, required: true });
  // The classes' month: plans are drawn on the latest classified month, not on today.
  const monthEnd = d.month ? new Date(Date.UTC(+d.month.slice(0, 4), +d.month.slice(5, 7), 0)).toISOString().slice(0, 10) : new Date().toISOString().slice(0, 10);
  const asOf = h("input", { id: "plan-asof", type: "date", value: monthEnd, required: true });
  const ratio = {};
  const preview = h("tbody");
  const update = () => preview.replaceChildren(...["A", "B", "C", "D"].map((c) => h("tr", {},
    h("td", {}, h("span", { class: `badge ${c}` }, c)), h("td", {}, mix[c] ?? "–"),
    h("td", {}, ratio[c]), h("td", { id: `preview-${c}` }, mix[c] !== undefined ? Math.ceil((mix[c] * Number(ratio[c].value || 0)) / 100) : "–"))));
  for (const c of ["A", "B", "C", "D"]) {
    ratio[c] = h("input", { id: `ratio-${c}`, type: "number", min: 0, max: 100, step: 0.5, value: DEFAULT[c], "aria-label": `${c} ${t("ratio")}`, oninput: update });
  }
  update();
  const result = h("div", { id: "plan-result", "aria-live": "polite" });
  const verify = async (id) => {
    try {
      const v = await api(`/api/web/plans/${encodeURIComponent(id)}/verify`);
      const ok = v.ok ?? v.passed ?? !(v.problems?.length);
      result.append(h("p", { id: "verify-result", class: ok ? "" : "error" }, `${id}: ${ok ? t("verified") : t("verifyFailed")}`,
        v.problems?.length ? ` — ${v.problems.join("; ")}` : ""));
    } catch (ex) { toast(ex.message); }
  };
  const draw = async (e) => {
    e.preventDefault();
    try {
      const body = { name: name.value, seed: seed.value, as_of: asOf.value,
        ratios: Object.fromEntries(Object.entries(ratio).map(([c, el]) => [c, Number(el.value) / 100])) };
      const o = await api("/api/web/plans", { method: "POST", body });
      result.replaceChildren(h("h2", {}, `${o.plan_id} · ${o.name}`),
        table([{ key: "cls", label: t("classes") }, { key: "population", label: t("population") }, { key: "drawn", label: t("drawn") },
          { key: "inclusion_probability", label: t("ratio"), render: (s) => (s.inclusion_probability * 100).toFixed(2) }], o.strata),
        h("div", { class: "toolbar" },
          h("button", { type: "button", id: "verify-plan", onclick: () => verify(o.plan_id) }, t("verify")),
          h("a", { class: "button secondary", href: `/api/web/plans/${o.plan_id}/list?format=xlsx`, download: "plan.xlsx", id: "plan-export" }, t("listExport"))));
      toast(`${t("draw")} ✓ ${o.drawn}`);
    } catch (ex) { result.replaceChildren(h("p", { class: "error", role: "alert" }, ex.message)); }
  };
  view.append(
    h("h1", {}, t("sampling")),
    h("p", { class: "muted" }, t("planHint")),
    h("div", { class: "grid" },
      card(t("draw"), h("form", { id: "plan-form", onsubmit: draw },
        h("div", { class: "toolbar" }, field(t("planName"), name), field(t("seed"), seed), field(t("asOf"), asOf)),
        h("table", {}, h("thead", {}, h("tr", {}, [t("classes"), t("population"), t("ratio"), t("preview")].map((x) => h("th", { scope: "col" }, x)))), preview),
        h("p", {}, h("button", { type: "submit", id: "draw-plan" }, t("draw")))), result),
      card(t("plans"), plans.error ? h("p", { class: "muted" }, plans.error)
        : table([{ key: "id", label: "ID" }, { key: "name", label: t("planName") }, { key: "as_of", label: t("asOf") },
          { key: "drawn", label: t("drawn") }, { key: "inspected", label: "已检查" },
          { key: "id", label: "", render: (p) => h("button", { type: "button", class: "secondary", onclick: () => verify(p.id) }, t("verify")) }], plans)),
    ));
  void COLORS;
}
