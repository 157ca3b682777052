// 筛查: combinable conditions over the screening fields and tags; save, share, export.
import { api, card, download, field, go, h, t, table, toast } from "../core.js";

const NOVALUE = new Set(["is_null", "not_null"]);
const LIST_OPS = new Set(["in", "not_in"]);

export async function render(view, { params }) {
  const [fields, saved, tags] = await Promise.all([api("/api/screening/fields"), api("/api/screening/saved"), api("/api/tags").catch(() => [])]);
  const byName = Object.fromEntries(fields.map((f) => [f.field, f]));
  const rows = h("div", { id: "conditions" });
  const combine = h("select", { id: "combine" }, h("option", { value: "all" }, t("allOf")), h("option", { value: "any" }, t("anyOf")));
  const out = h("div", { id: "screen-results" });
  let n = 0;
  const addRow = (init = {}) => {
    const i = n++;
    const fsel = h("select", { id: `cond-field-${i}`, "aria-label": `${t("field")} ${i + 1}` },
      fields.map((f) => h("option", { value: f.field, selected: f.field === init.field }, `${f.layer_zh} · ${f.field}`)),
      tags.length ? h("option", { value: "tag", selected: init.field === "tag" }, "标签 · tag") : null);
    const osel = h("select", { id: `cond-op-${i}`, "aria-label": `${t("op")} ${i + 1}` });
    const val = h("input", { id: `cond-value-${i}`, "aria-label": `${t("value")} ${i + 1}`, value: init.value ?? "" });
    const ops = () => {
      const f = byName[fsel.value];
      osel.replaceChildren(...(f ? f.ops : ["has"]).map((o) => h("option", { value: o, selected: o === init.op }, o)));
    };
    fsel.addEventListener("change", ops); ops();
    const row = h("div", { class: "toolbar cond" }, field(t("field"), fsel), field(t("op"), osel), field(t("value"), val),
      h("button", { type: "button", class: "secondary", onclick: () => row.remove() }, t("remove")));
    row.rule = () => {
      const f = byName[fsel.value];
      const leaf = { field: fsel.value, op: osel.value };
      if (NOVALUE.has(osel.value)) return leaf;
      let v = val.value.trim();
      if (LIST_OPS.has(osel.value) || osel.value === "between") v = v.split(/[,，]/).map((x) => x.trim());
      if (f && ["int", "float", "number"].includes(f.type)) v = Array.isArray(v) ? v.map(Number) : Number(v);
      return { ...leaf, value: v };
    };
    rows.append(row);
  };
  const rule = () => ({ [combine.value]: [...rows.querySelectorAll(".cond")].map((r) => r.rule()) });
  const run = async () => {
    try {
      const r = await api("/api/screening", { method: "POST", body: { rule: rule(), limit: 100 } });
      out.replaceChildren(h("p", { id: "screen-total" }, `${t("results")}: ${r.total}`),
        table([{ key: "name", label: t("name") }, { key: "uscc", label: t("uscc") }, { key: "region_code", label: t("region") },
          { key: "industry_code", label: t("industry") }, { key: "status", label: t("status") }], r.items, { onRow: (x) => go(`#/portrait/${x.uscc}`) }));
    } catch (ex) { out.replaceChildren(h("p", { class: "error", role: "alert" }, ex.message)); }
  };
  const name = h("input", { id: "save-name", size: 16 });
  const start = saved.find((s) => String(s.id) === params.get("saved"));
  if (start) {
    const key = Object.keys(start.rule)[0];
    combine.value = key;
    for (const c of start.rule[key]) addRow({ ...c, value: Array.isArray(c.value) ? c.value.join(",") : c.value });
  } else addRow({ field: "status", op: "eq", value: "存续" });
  view.append(
    h("h1", {}, t("screening")),
    card(t("screening"), h("div", { class: "toolbar" }, field(t("combine"), combine)), rows,
      h("div", { class: "toolbar" },
        h("button", { type: "button", class: "secondary", id: "add-cond", onclick: () => addRow() }, t("addCondition")),
        h("button", { type: "button", id: "run-screen", onclick: run }, t("run")),
        h("button", { type: "button", class: "secondary", id: "export-screen",
          onclick: () => download("/api/screening/export?format=xlsx", { method: "POST", body: { rule: rule() }, name: "screening.xlsx" }).catch((e) => toast(e.message)) }, t("export")),
        field(t("saveName"), name),
        h("button", { type: "button", class: "secondary", id: "save-screen", onclick: async () => {
          try { await api("/api/screening/saved", { method: "POST", body: { name: name.value || "筛查", rule: rule() } }); toast(`${t("save")} ✓`); } catch (ex) { toast(ex.message); }
        } }, t("save")))),
    card(t("saved"), table([{ key: "name", label: t("saveName") }, { key: "created_at", label: t("at") },
      { key: "id", label: "", render: (s) => h("a", { href: `#/screening?saved=${s.id}` }, t("run")) }], saved)),
    card(t("results"), out),
  );
  if (start) await run();
}
