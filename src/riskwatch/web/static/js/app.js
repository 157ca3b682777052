// The shell: log-in, navigation, language switch, hash routing (#/page/arg?query).
import { api, ApiError, disposeCharts, h, state, t, toast } from "./core.js";

const PAGES = [
  { id: "cockpit", roles: null },
  { id: "portrait", roles: null },
  { id: "alerts", roles: null },
  { id: "sampling", roles: null },
  { id: "screening", roles: null },
  { id: "areas", roles: null },
  { id: "indicators", roles: null },
  { id: "admin", roles: ["admin"] },
];
const main = document.getElementById("main");
let renderSeq = 0;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?");
  const [page, ...rest] = (path || "cockpit").split("/");
  return { page: page || "cockpit", arg: rest.join("/") || null, params: new URLSearchParams(qs || "") };
}

function chrome() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = `${t("brand")} · riskwatch`;
  document.getElementById("brand").textContent = t("brand");
  document.getElementById("skip-link").textContent = t("skip");
  document.getElementById("lang").textContent = state.lang === "zh" ? "EN" : "中文";
  const out = document.getElementById("logout");
  out.textContent = t("logout"); out.hidden = !state.me;
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t("nav"));
  nav.hidden = !state.me;
  nav.replaceChildren(...PAGES.filter((p) => !p.roles || p.roles.includes(state.me?.role))
    .map((p) => h("a", { href: `#/${p.id}`, id: `nav-${p.id}` }, t(p.id))));
  document.getElementById("who").textContent = state.me
    ? `${state.me.name} · ${state.me.role_zh || state.me.role} · ${state.me.region}` : "";
}

function loginView() {
  const user = h("input", { id: "login-user", name: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: "login-pass", name: "password", type: "password", autocomplete: "current-password", required: true });
  const err = h("p", { class: "error", role: "alert" });
  const form = h("form", { "aria-label": t("login") },
    h("label", { for: "login-user" }, t("username"), user),
    h("label", { for: "login-pass" }, t("password"), pass),
    h("button", { type: "submit", id: "login-submit" }, t("login")), err);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("/api/auth/session", { method: "POST", form: { username: user.value, password: pass.value } });
      state.me = await api("/api/me");
      chrome();
      route();
    } catch (ex) { err.textContent = `${t("loginFailed")}: ${ex.message}`; }
  });
  main.replaceChildren(h("div", { class: "login card" }, h("h1", {}, t("login")), form));
  document.body.dataset.ready = "login";
  user.focus();
}

async function route() {
  const seq = ++renderSeq;
  delete document.body.dataset.ready;
  disposeCharts();
  if (!state.me) return loginView();
  const { page, arg, params } = parseHash();
  const spec = PAGES.find((p) => p.id === page) || PAGES[0];
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.id === `nav-${spec.id}`) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  try {
    if (spec.roles && !spec.roles.includes(state.me.role)) throw new ApiError(403, t("forbidden"));
    const mod = await import(`./pages/${spec.id}.js`);
    // Attached before rendering: charts need their element's size.
    const view = h("div", { id: `page-${spec.id}` });
    main.replaceChildren(view);
    await mod.render(view, { arg, params });
    if (seq !== renderSeq) return;
    await Promise.all(state.charts.map((c) => c.done));
  } catch (ex) {
    if (ex instanceof ApiError && ex.status === 401) { state.me = null; chrome(); return loginView(); }
    main.replaceChildren(h("p", { class: "error", role: "alert" }, ex.message));
    console.warn(ex);
  }
  if (seq === renderSeq) {
    document.body.dataset.ready = spec.id;
    performance.mark(`rw-ready-${spec.id}`);
  }
}

document.getElementById("lang").addEventListener("click", () => {
  state.lang = state.lang === "zh" ? "en" : "zh";
  localStorage.setItem("rw.lang", state.lang);
  chrome(); route();
});
document.getElementById("logout").addEventListener("click", async () => {
  await api("/api/auth/logout", { method: "POST" }).catch(() => null);
  state.me = null; chrome(); toast(t("logout")); route();
});
window.addEventListener("hashchange", route);
window.addEventListener("resize", () => state.charts.forEach((c) => c.chart.resize()));

(async () => {
  try { state.me = (await api("/api/web/whoami")).me; } catch { state.me = null; }
  chrome();
  route();
})();
