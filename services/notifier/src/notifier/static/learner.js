// The learner page's behaviour; its words come from the page's #texts block.
"use strict";
const T = JSON.parse(document.getElementById("texts").textContent);
const LANG = document.documentElement.lang;
const KEY = "credstack-learner-token";
const $ = (id) => document.getElementById(id);
const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const languageName = (tag) => T.languages[(tag || "").split("-")[0]] || tag;
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  for (const child of children) if (child !== null && child !== "") node.append(child);
  return node;
}
async function call(path, options = {}) {
  const response = await fetch(path, {...options, headers: {...(options.headers || {}), Authorization: `Bearer ${sessionStorage.getItem(KEY)}`}});
  if (response.status === 401) { sessionStorage.removeItem(KEY); show(); throw new Error("unauthorised"); }
  if (!response.ok) throw new Error(String(response.status));
  return response;
}
function left(until) {
  const ms = new Date(until) - Date.now();
  if (ms <= 0) return "0 h";
  const hours = Math.floor(ms / 3.6e6), minutes = Math.floor((ms % 3.6e6) / 6e4);
  return `${hours} h ${minutes} min`;
}
function list(target, items, render) {
  target.replaceChildren(...(items.length ? items.map(render) : [el("li", {class: "muted"}, T.none)]));
}
function render(page) {
  list($("enrolments"), page.enrolments, (e) => {
    const waiting = e.waiting_for.what;
    const deadline = e.waiting_for.until ? new Date(e.waiting_for.until).toLocaleString(LANG) : "";
    return el("li", {},
      el("strong", {}, e.title || ""),
      el("div", {class: "muted"}, `${T.starts}: ${e.starts_on || ""} · ${fill(T.taught_in, {language: languageName(e.taught_in)})}`),
      el("div", {class: "status"}, waiting !== "nothing" ? fill(T["waiting_" + waiting], {deadline, left: e.waiting_for.until ? left(e.waiting_for.until) : ""}) : (T["stage_" + e.stage] || "")),
      e.result ? el("div", {}, T["result_" + e.result]) : null);
  });
  list($("credentials"), page.credentials, (c) => {
    const links = el("div", {});
    for (const [label, url] of [["JSON", c.json_url], ["PNG", c.png_url], ["SVG", c.svg_url], ["PDF", c.pdf_url]]) {
      links.append(el("a", {href: url, download: "", "aria-label": `${T.download} ${label}: ${c.title || ""}`}, `${T.download} ${label}`));
    }
    links.append(el("a", {href: c.verify_url}, T.verify));
    if (c.status === "active" && c.linkedin_url) links.append(el("a", {href: c.linkedin_url, rel: "noopener"}, T.linkedin));
    return el("li", {}, el("strong", {}, c.title || ""), el("div", {class: "status"}, T["status_" + c.status]), links);
  });
  list($("stacks"), page.stacks, (s) => el("li", {}, el("strong", {}, s.title),
    el("div", {id: `stack-${s.id}`}, fill(T.progress, {held: s.held, required: s.required})),
    el("progress", {max: s.required, value: s.held, "aria-labelledby": `stack-${s.id}`})));
  const select = $("pref-language");
  select.replaceChildren(el("option", {value: ""}, T.course_language),
    ...page.preferences.languages.map((tag) => el("option", {value: tag}, languageName(tag))));
  select.value = page.preferences.language || "";
  $("pref-reminders").checked = page.preferences.reminders;
  $("clr").onclick = async () => {
    const blob = await (await call(page.clr_url)).blob();
    const link = el("a", {href: URL.createObjectURL(blob), download: "clr.json"});
    document.body.append(link); link.click(); link.remove();
  };
}
async function load() { render(await (await call("/learners/me/page")).json()); }
function show() {
  const signedIn = Boolean(sessionStorage.getItem(KEY));
  $("signin").hidden = signedIn; $("content").hidden = !signedIn;
  if (signedIn) load().catch(() => {});
}
$("signin").addEventListener("submit", (event) => { event.preventDefault(); sessionStorage.setItem(KEY, $("token").value.trim()); show(); });
$("signout").addEventListener("click", () => { sessionStorage.removeItem(KEY); show(); });
$("preferences").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await call("/learners/me/preferences", {method: "PUT", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({language: $("pref-language").value || null, reminders: $("pref-reminders").checked})});
    $("pref-status").textContent = T.saved;
  } catch { $("pref-status").textContent = T.error; }
});
show();
