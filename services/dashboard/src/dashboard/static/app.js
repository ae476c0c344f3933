// The Credstack staff dashboard: read models over fetch, live events over SSE (stream tickets).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "credstack.dashboard.token";
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    last: null, // the newest log position shown: the stream resumes after it
    source: null,
    seen: [], // every position received over the stream, in order (tests check it)
    duplicates: 0,
    retry: 0,
    refreshTimer: null,
  };
  window.dashboard = state;

  const STAGES = [
    ["interested", "Interested"], ["enrolled", "Enrolled"], ["paid", "Paid / confirmed"], ["declaration_accepted", "Declaration accepted"],
    ["graded", "Graded"], ["passed", "Passed"], ["credential_issued", "Credential issued"],
    ["attendance_certificates", "Attendance certificates"],
  ];

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${state.token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
    if (response.status === 401) { signOut("Your sign-in has expired: sign in again."); }
    if (!response.ok) { const e = new Error((data && (data.detail || data.title)) || response.statusText); e.problem = data; throw e; }
    return data;
  }

  function connection(text, cls) { const el = $("connection"); el.textContent = text; el.className = cls || ""; }
  function notice(text, bad) { const el = $("action-result"); el.textContent = text; el.className = "notice" + (bad ? " bad" : ""); }

  function time(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function addFeed(position, type, iso, summary, fresh) {
    const list = $("feed");
    if (list.querySelector(`li[data-position="${position}"]`)) return;
    const li = document.createElement("li");
    li.dataset.position = position;
    li.dataset.type = type;
    if (fresh) li.className = "new";
    const t = document.createElement("time"); t.dateTime = iso; t.textContent = time(iso);
    const p = document.createElement("div"); p.textContent = summary;
    li.append(p, t);
    list.prepend(li);
    while (list.children.length > 200) list.lastElementChild.remove();
  }

  function seconds(value) { return value == null ? "–" : value < 10 ? `${value.toFixed(2)} s` : `${Math.round(value)} s`; }

  function renderOverview(o) {
    $("feed").replaceChildren();
    for (const item of o.feed) addFeed(item.position, item.type, item.time, item.summary, false);
    renderMetrics(o);
  }

  function renderMetrics(o) {
    $("p50").textContent = seconds(o.latency.p50_seconds);
    $("p95").textContent = seconds(o.latency.p95_seconds);
    $("latency-count").textContent = o.latency.count;
    const root = $("funnels");
    root.replaceChildren();
    if (!o.funnels.length) { root.textContent = "No offerings yet."; return; }
    for (const f of o.funnels) {
      const box = document.createElement("article");
      box.className = "offering"; box.dataset.offering = f.offering_id;
      const h = document.createElement("h3");
      h.textContent = `${f.code} ${f.title}` + (f.starts_on ? ` · starts ${f.starts_on}` : "") + ` · ${f.status}`;
      const grid = document.createElement("div"); grid.className = "funnel";
      const top = Math.max(1, ...Object.values(f.counts));
      for (const [key, label] of STAGES) {
        const n = f.counts[key] || 0;
        const name = document.createElement("span"); name.textContent = label; name.id = `f-${f.offering_id}-${key}`;
        const bar = document.createElement("div"); bar.className = "bar"; bar.style.width = `${(100 * n) / top}%`;
        bar.setAttribute("role", "img"); bar.setAttribute("aria-labelledby", name.id);
        const count = document.createElement("span"); count.textContent = n; count.dataset.stage = key;
        grid.append(name, bar, count);
      }
      box.append(h, grid, chart(f.daily));
      root.append(box);
    }
  }

  function chart(daily) {
    const wrap = document.createElement("figure"); wrap.className = "chart";
    const max = Math.max(1, ...daily.map((d) => Math.max(d.paid || 0, d.passed || 0, d.issued || 0)));
    const w = 520 / daily.length;
    const bars = daily.map((d, i) => ["paid", "passed", "issued"].map((k, j) => {
      const h = (60 * (d[k] || 0)) / max;
      return `<rect x="${i * w + j * (w / 3)}" y="${64 - h}" width="${w / 3 - 1}" height="${h}" fill="${["#0b5cad", "#1a6b32", "#8a4b00"][j]}"><title>${d.day} ${k}: ${d[k] || 0}</title></rect>`;
    }).join("")).join("");
    wrap.innerHTML = `<svg viewBox="0 0 520 66" role="img" aria-label="Per day for the last ${daily.length} days: paid, passed, issued">${bars}</svg>` +
      `<figcaption class="muted">Per day: <span style="color:#0b5cad">■ paid</span> <span style="color:#1a6b32">■ passed</span> <span style="color:#8a4b00">■ issued</span></figcaption>`;
    return wrap;
  }

  function actionButton(label, run) {
    const b = document.createElement("button"); b.type = "button"; b.textContent = label;
    b.addEventListener("click", async () => {
      b.disabled = true;
      try { await run(); } catch (e) { notice(`Not done: ${e.message}`, true); } finally { b.disabled = false; }
    });
    return b;
  }

  function field(li, id, labelText) {
    const label = document.createElement("label"); label.htmlFor = id; label.textContent = labelText;
    const input = document.createElement("input"); input.id = id; input.required = true;
    li.append(label, input);
    return input;
  }

  function renderAttention(a) {
    const list = $("attention"); list.replaceChildren();
    $("attention-count").textContent = a.items.length || "";
    $("attention-unavailable").textContent = a.unavailable.length ? `Could not ask: ${a.unavailable.join(", ")}` : "";
    a.items.forEach((item, index) => {
      const li = document.createElement("li"); li.dataset.kind = item.kind;
      const title = document.createElement("strong"); title.textContent = item.title;
      const detail = document.createElement("div"); detail.className = "muted";
      detail.textContent = [item.detail, item.since ? `since ${new Date(item.since).toLocaleString()}` : ""].filter(Boolean).join(" · ");
      li.append(title, detail);
      const ids = item.ids;
      if (item.actions.includes("approve-and-publish")) {
        li.append(actionButton(`Approve and publish ${ids.code}`, async () => {
          await api("POST", `/console/actions/micro-credentials/${encodeURIComponent(ids.code)}/approve-and-publish`);
          notice(`${ids.code} approved and published`); refreshSoon(0);
        }));
      }
      if (item.actions.includes("replay")) {
        li.append(actionButton(`Replay parked event ${ids.parked_id}`, async () => {
          const r = await api("POST", `/console/actions/parked-events/${ids.service}/${ids.parked_id}/replay`);
          notice(`Replayed in ${ids.service}: ${r.result.outcome}`); refreshSoon(0);
        }));
      }
      if (item.actions.includes("dismiss")) {
        const note = field(li, `note-${index}`, "Note (why)");
        const enrolment = field(li, `assign-${index}`, "Enrolment id (to assign)");
        enrolment.required = false;
        li.append(actionButton("Assign to enrolment", async () => {
          await api("POST", `/console/actions/quarantined-grades/${ids.grade_id}/assign`, { enrolment_id: enrolment.value.trim(), note: note.value });
          notice("Grade assigned"); refreshSoon(0);
        }));
        li.append(actionButton("Dismiss grade", async () => {
          await api("POST", `/console/actions/quarantined-grades/${ids.grade_id}/dismiss`, { note: note.value });
          notice("Grade dismissed"); refreshSoon(0);
        }));
      }
      if (item.actions.includes("withdraw")) {
        const reason = field(li, `reason-${index}`, "Reason");
        li.append(actionButton("Withdraw", async () => {
          await api("POST", `/console/actions/enrolments/${ids.enrolment_id}/withdraw`, { reason: reason.value });
          notice("Enrolment withdrawn"); refreshSoon(0);
        }));
      }
      list.append(li);
    });
  }

  async function refresh() {
    // Each part is drawn as soon as it arrives: the attention list asks every service and
    // may be slow; the figures come from the dashboard's own read models.
    await Promise.allSettled([
      api("GET", "/console/overview").then(renderMetrics),
      api("GET", "/console/attention").then(renderAttention),
    ]);
  }

  function refreshSoon(delay = 600) {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refresh, delay);
  }

  async function connect() {
    if (!state.token) return;
    let ticket;
    try { ticket = await api("POST", "/stream/tickets"); } catch (e) { return reconnectLater(); }
    const url = new URL("/stream", location.origin);
    url.searchParams.set("ticket", ticket.ticket);
    if (state.last != null) url.searchParams.set("lastEventId", String(state.last));
    const source = new EventSource(url);
    state.source = source;
    source.onopen = () => { state.retry = 0; connection("Live", "live"); };
    source.onmessage = (message) => {
      const position = Number(message.lastEventId);
      if (state.last != null && position <= state.last) { state.duplicates += 1; return; }
      state.last = position;
      state.seen.push(position);
      const event = JSON.parse(message.data);
      addFeed(position, event.type, event.time, event.summary || event.type, true);
      refreshSoon();
    };
    source.addEventListener("reset", async (message) => {
      state.last = Number(message.lastEventId);
      notice("Some older events are no longer kept: the page was reloaded from the read models.");
      const o = await api("GET", "/console/overview");
      renderOverview(o);
    });
    source.onerror = () => {
      // Reconnect ourselves: a new ticket, and the cursor of the last event shown.
      source.close();
      if (state.source === source) reconnectLater();
    };
  }

  function reconnectLater() {
    connection("Reconnecting…", "down");
    state.retry = Math.min(state.retry + 1, 6);
    setTimeout(connect, Math.min(250 * 2 ** state.retry, 10000));
  }

  state.drop = () => { if (state.source) { state.source.close(); state.source = null; reconnectLater(); } };

  async function start() {
    $("sign-in").hidden = true; $("console").hidden = false; $("sign-out").hidden = false;
    connection("Connecting…");
    try {
      const o = await api("GET", "/console/overview");
      renderOverview(o);
      state.last = o.head;
    } catch (e) {
      return;
    }
    connect();
    refresh();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY); state.token = null;
    if (state.source) { state.source.close(); state.source = null; }
    $("sign-in").hidden = false; $("console").hidden = true; $("sign-out").hidden = true;
    connection("Not signed in"); $("sign-in-error").textContent = message || "";
  }

  function signIn(token) { state.token = token; sessionStorage.setItem(TOKEN_KEY, token); start(); }

  document.addEventListener("DOMContentLoaded", () => {
    $("sign-in-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("token").value.trim()); });
    $("dev-sign-in").addEventListener("click", async () => {
      const r = await fetch("/dev/sign-in", { method: "POST" });
      if (r.ok) signIn((await r.json()).token); else $("sign-in-error").textContent = "Dev sign-in is only in the dev stack.";
    });
    $("sign-out").addEventListener("click", () => signOut());
    $("credential-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const action = $("credential-action").value;
      try { await api("POST", `/console/actions/credentials/${$("credential-id").value.trim()}/${action}`, { reason: $("credential-reason").value }); notice(`Credential: ${action} done`); }
      catch (err) { notice(`Not done: ${err.message}`, true); }
    });
    $("enrolment-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const action = $("enrolment-action").value, id = $("enrolment-id").value.trim();
      try {
        if (action === "refund") await api("POST", `/console/actions/enrolments/${id}/refund`);
        else await api("POST", `/console/actions/enrolments/${id}/withdraw`, { reason: $("enrolment-reason").value });
        notice(`Enrolment: ${action} done`);
      } catch (err) { notice(`Not done: ${err.message}`, true); }
    });
    if (state.token) start();
  });
})();
