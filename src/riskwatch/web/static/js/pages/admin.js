// 用户与审计 (admins): users, roles and scopes, partner tokens, the audit log and its check.
import { api, card, h, query, t, table, toast } from "../core.js";

export async function render(view, { params }) {
  const offset = Number(params.get("offset") || 0);
  const [users, tokens, log] = await Promise.all([api("/api/admin/users"), api("/api/admin/tokens"), api(`/api/admin/audit${query({ limit: 50, offset })}`)]);
  const verdict = h("p", { id: "chain-result", "aria-live": "polite" });
  view.append(h("h1", {}, t("admin")), h("div", { class: "grid" },
    card(t("users"), table([{ key: "name", label: t("username") }, { key: "role", label: t("role") }, { key: "region", label: t("region") },
      { key: "locked_until", label: "锁定" }], users)),
    card(t("tokens"), table([{ key: "id", label: "ID" }, { key: "partner", label: "合作方" }, { key: "expires_at", label: t("expires") },
      { key: "revoked_at", label: t("revoked") }], tokens))),
  card(`${t("audit")} (${log.total})`, h("div", { class: "toolbar" },
    h("button", { type: "button", id: "verify-chain", onclick: async () => {
      try { const r = await api("/api/admin/audit/verify"); verdict.textContent = `${r.ok ? t("chainOk") : t("chainBad")} · ${r.entries}${r.first_bad ? ` · #${r.first_bad}` : ""}`; verdict.className = r.ok ? "" : "error"; } catch (ex) { toast(ex.message); }
    } }, t("verifyChain")), verdict),
  table([{ key: "at", label: t("at"), render: (e) => String(e.at || "").slice(0, 19).replace("T", " ") }, { key: "actor", label: t("actor") },
    { key: "action", label: t("action") }, { key: "target", label: t("target") }], log.items),
  h("div", { class: "toolbar" },
    offset > 0 ? h("a", { class: "button secondary", href: `#/admin?offset=${offset - 50}` }, t("prev")) : null,
    offset + 50 < log.total ? h("a", { class: "button secondary", href: `#/admin?offset=${offset + 50}` }, t("next")) : null)));
}
