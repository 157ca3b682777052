// 风险预警: the case queue with filters (overdue highlighted) and a case with its moves.
import { api, card, field, go, h, query, t, table, toast } from "../core.js";

const STATES = ["待分派", "已分派", "核查中", "已处置", "已办结", "误报"];
const MEASURES = ["提醒", "警示", "约谈", "检查", "立案"];

async function detail(view, id) {
  const d = await api(`/api/web/cases/${id}`);
  const c = d.case;
  const note = h("textarea", { id: "move-note", rows: 2, cols: 40 });
  const assignee = h("input", { id: "move-assignee", value: c.assignee || "" });
  const measures = h("select", { id: "move-measures", multiple: true, size: 3 }, MEASURES.map((m) => h("option", { value: m }, m)));
  const move = async (action) => {
    try {
      await api(`/api/web/cases/${id}/${action}`, { method: "POST", body: {
        note: note.value || null, assignee: assignee.value || null, version: c.version,
        measures: [...measures.selectedOptions].map((o) => o.value) } });
      toast(`${t(action)} ✓`);
      view.replaceChildren(); await detail(view, id);
    } catch (ex) { toast(ex.message); }
  };
  view.append(
    h("p", {}, h("a", { href: "#/alerts" }, `← ${t("back")}`)),
    h("h1", {}, `${t("caseId")} ${c.case_id} · `, h("span", { id: "case-state" }, c.state), c.overdue ? h("span", { class: "warn" }, ` · ${t("overdue")}`) : ""),
    h("div", { class: "grid" },
      card(t("basics"), h("dl", { class: "basics" }, ...[["uscc", h("a", { href: `#/portrait/${c.uscc}` }, c.uscc)], ["severity", t(c.severity)],
        ["department", c.department], ["assignee", c.assignee || "–"], ["opened", c.opened_on], ["deadline", c.deadline], ["measures", (c.actions || []).join("、") || "–"]]
        .flatMap(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v)]))),
      card(t("moves"), h("div", { class: "toolbar" }, field(t("assignee"), assignee), field(t("measures"), measures), field(t("note"), note)),
        h("div", { class: "toolbar", id: "moves" }, d.moves.length ? d.moves.map((m) => h("button", { type: "button", id: `move-${m}`, onclick: () => move(m) }, t(m))) : h("span", { class: "muted" }, t("none")))),
      card(t("evidence"), table([{ key: "rule", label: t("rule") }, { key: "severity", label: t("severity") }, { key: "raised_on", label: t("opened") },
        { key: "evidence", label: t("evidence"), render: (a) => h("code", {}, JSON.stringify(a.evidence).slice(0, 160)) }], d.alerts)),
      card(t("events"), table([{ key: "at", label: t("at"), render: (e) => e.at.slice(0, 19).replace("T", " ") }, { key: "actor", label: t("actor") },
        { key: "action", label: t("action"), render: (e) => t(e.action) }, { key: "to_state", label: t("state") }, { key: "note", label: t("note") }], d.events)),
    ));
}

export async function render(view, { arg, params }) {
  if (arg) return detail(view, arg);
  const f = Object.fromEntries(["state", "severity", "department", "region", "deadline_before", "overdue"].map((k) => [k, params.get(k) || ""]));
  const state = h("select", { id: "f-state" }, h("option", { value: "" }, t("all")), STATES.map((s) => h("option", { value: s, selected: f.state === s }, s)));
  const severity = h("select", { id: "f-severity" }, h("option", { value: "" }, t("all")), ["high", "medium", "low"].map((s) => h("option", { value: s, selected: f.severity === s }, t(s))));
  const department = h("input", { id: "f-department", value: f.department, size: 10 });
  const region = h("input", { id: "f-region", value: f.region, size: 8, pattern: "\\d{2,6}", inputmode: "numeric" });
  const before = h("input", { id: "f-deadline", type: "date", value: f.deadline_before });
  const overdue = h("input", { id: "f-overdue", type: "checkbox", checked: f.overdue === "true" });
  const filters = () => ({ state: state.value, severity: severity.value, department: department.value, region: region.value,
    deadline_before: before.value, overdue: overdue.checked ? "true" : "" });
  const offset = Number(params.get("offset") || 0);
  const r = await api(`/api/web/cases${query({ ...f, overdue: f.overdue === "true", limit: 50, offset })}`);
  view.append(
    h("h1", {}, t("alerts")),
    h("form", { class: "inline", "aria-label": t("search"), onsubmit: (e) => { e.preventDefault(); go(`#/alerts${query(filters())}`); } },
      field(t("state"), state), field(t("severity"), severity), field(t("department"), department), field(t("region"), region),
      field(t("deadlineBefore"), before), h("label", {}, t("onlyOverdue"), overdue),
      h("button", { type: "submit" }, t("search")),
      h("a", { class: "button secondary", href: `/api/web/cases/export${query({ ...f, overdue: f.overdue === "true" })}`, download: "cases.xlsx", id: "cases-export" }, t("export"))),
    h("p", { class: "muted" }, t("page", offset / 50 + 1, r.total)),
    table([
      { key: "case_id", label: t("caseId") }, { key: "uscc", label: t("uscc") }, { key: "region_code", label: t("region") },
      { key: "state", label: t("state") }, { key: "severity", label: t("severity"), render: (c) => t(c.severity) },
      { key: "department", label: t("department") }, { key: "assignee", label: t("assignee") }, { key: "opened_on", label: t("opened") },
      { key: "deadline", label: t("deadline"), render: (c) => (c.overdue ? h("span", { class: "warn" }, `${c.deadline} ${t("overdue")}`) : c.deadline) },
    ], r.items, { onRow: (c) => go(`#/alerts/${c.case_id}`), rowClass: (c) => (c.overdue ? "overdue" : null) }),
    h("div", { class: "toolbar" },
      offset > 0 ? h("a", { class: "button secondary", href: `#/alerts${query({ ...f, offset: offset - 50 })}` }, t("prev")) : null,
      offset + 50 < r.total ? h("a", { class: "button secondary", href: `#/alerts${query({ ...f, offset: offset + 50 })}` }, t("next")) : null),
  );
}
