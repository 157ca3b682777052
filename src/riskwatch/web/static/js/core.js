// Shared helpers: strings, API calls (session cookie + CSRF header), DOM, tables, charts.
import { STRINGS } from "./i18n.js";

export const state = { lang: localStorage.getItem("rw.lang") || "zh", me: null, charts: [] };

export function t(key, ...args) {
  const s = STRINGS[state.lang][key] ?? STRINGS.zh[key] ?? key;
  return args.reduce((acc, a, i) => acc.replace(`{${i}}`, a), s);
}

function csrf() {
  const m = document.cookie.match(/(?:^|; )rw_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

export async function api(path, { method = "GET", body, form } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf();
  let payload;
  if (form) payload = new URLSearchParams(form);
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const res = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail ?? res.statusText);
    throw new ApiError(res.status, detail);
  }
  return data;
}

// Download a file from the API (POST exports need the CSRF header, so no plain link).
export async function download(path, { method = "GET", body, name = "export.xlsx" } = {}) {
  const headers = {};
  if (method !== "GET") { headers["X-CSRF-Token"] = csrf(); headers["Content-Type"] = "application/json"; }
  const res = await fetch(path, { method, headers, body: body && JSON.stringify(body), credentials: "same-origin" });
  if (!res.ok) throw new ApiError(res.status, (await res.json().catch(() => ({}))).detail || res.statusText);
  const blob = await res.blob();
  const a = h("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a); a.click(); a.remove();
  toast(`${t("exported")}: ${name}`);
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function toast(msg) {
  const el = document.getElementById("toast");
  el.textContent = msg; el.classList.add("show");
  clearTimeout(toast.timer); toast.timer = setTimeout(() => el.classList.remove("show"), 3000);
}

export function badge(cls) { return cls ? h("span", { class: `badge ${cls}`, "aria-label": `${t("classes")} ${cls}` }, cls) : "–"; }

export function card(title, ...body) { return h("section", { class: "card", "aria-label": title }, h("h2", {}, title), ...body); }

// A table; columns: [{key, label, render?}]. onRow makes rows keyboard-activatable links.
export function table(columns, rows, { onRow, rowClass, caption } = {}) {
  const body = rows.length ? rows.map((r) => {
    const tr = h("tr", { class: rowClass ? rowClass(r) : null },
      columns.map((c) => h("td", {}, c.render ? c.render(r) : (r[c.key] ?? ""))));
    if (onRow) {
      tr.tabIndex = 0; tr.style.cursor = "pointer"; tr.setAttribute("role", "link");
      tr.addEventListener("click", () => onRow(r));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") onRow(r); });
    }
    return tr;
  }) : [h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, t("noData")))];
  return h("div", { class: "tablewrap" }, h("table", {},
    caption ? h("caption", { class: "muted" }, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
    h("tbody", {}, body)));
}

export function field(label, control) { return h("label", {}, label, control); }

export const COLORS = { A: "#2e7d32", B: "#1565c0", C: "#b26a00", D: "#c62828" };

// An ECharts chart whose first `finished` event the page waits for (bench, screenshots).
export function chart(el, option, name) {
  const c = echarts.init(el, null, { renderer: "canvas" });
  const done = new Promise((resolve) => c.on("finished", resolve));
  c.setOption({ animation: false, textStyle: { fontFamily: "Noto Sans CJK SC, sans-serif" }, ...option });
  state.charts.push({ name, chart: c, done });
  return c;
}

export function disposeCharts() {
  for (const { chart: c } of state.charts) c.dispose();
  state.charts = [];
}

export function fmtPct(x) { return x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`; }

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined && v !== false) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

export function go(hash) { location.hash = hash; }

// Region names from the boundary files the map uses (adcodes are numbers there).
const geoCache = {};
export async function geo(code) {
  if (!geoCache[code]) {
    geoCache[code] = fetch(`/static/vendor/map/${code}.json`).then((r) => (r.ok ? r.json() : null));
  }
  return geoCache[code];
}
export async function regionNames(code) {
  const g = await geo(code);
  const names = {};
  for (const f of g?.features || []) names[String(f.properties.adcode)] = f.properties.name;
  return names;
}
