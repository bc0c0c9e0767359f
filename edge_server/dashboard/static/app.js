/* Aisleway supervisor dashboard. No framework, no build: fetch + a live SSE stream read with
   fetch() (EventSource cannot send the Authorization header), charts as small SVG. */
"use strict";

const API = "/api/v1";
const TOKEN_KEY = "aisleway.dashboard.token";
const USER_KEY = "aisleway.dashboard.user";
const MANAGERS = ["supervisor", "admin"];
const REFUSED = "Only supervisors and administrators can open the dashboard.";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

let streamAbort = null;
let lastSummary = null;

// -- helpers ------------------------------------------------------------------------------
function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}
function pct(v) { return v === null || v === undefined ? "–" : `${v} %`; }
function num(v) { return v === null || v === undefined ? "–" : String(v); }
function ms(v) { return v === null || v === undefined ? "–" : (v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`); }
function secs(v) {
  if (v === null || v === undefined) return "none";
  if (v < 60) return `${Math.round(v)} s`;
  return `${Math.round(v / 60)} min`;
}
function clock(isoText) {
  const d = isoText ? new Date(isoText) : new Date();
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}
function setKpi(name, text) {
  const el = $(`[data-kpi="${name}"]`);
  if (el) el.textContent = text;
}
function token() { return sessionStorage.getItem(TOKEN_KEY); }

/** The server's own sentence for a refusal (envelope message.text), or a fallback. */
function errorText(body, status) {
  const msg = body && body.message;
  if (msg && msg.text) return msg.text;
  if (msg && msg.code) return msg.code;
  return `The server answered ${status}.`;
}

async function api(method, path, { body, raw, contentType } = {}) {
  const headers = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (method !== "GET") headers["Idempotency-Key"] = crypto.randomUUID();
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = contentType || "text/csv";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const resp = await fetch(API + path, { method, headers, body: payload });
  let data = null;
  try { data = await resp.json(); } catch (_) { data = null; }
  if (resp.status === 401) {
    logout(errorText(data, resp.status));
  }
  if (!resp.ok) {
    const err = new Error(errorText(data, resp.status));
    err.status = resp.status;
    err.body = data;
    throw err;
  }
  return data ? data.data : null;
}

/** A refusal's sentence plus what its details name (missing columns, refused fields). */
function explain(e) {
  const d = e.body && e.body.message && e.body.message.details;
  let text = e.message;
  if (d && Array.isArray(d.missing_columns)) text += ` Missing: ${d.missing_columns.join(", ")}.`;
  if (d && Array.isArray(d.problems)) {
    text += " " + d.problems.map((p) => `${p.field || ""}: ${p.reason || p.code || ""}`).join("; ");
  }
  if (d && Array.isArray(d.errors)) {
    text += " " + d.errors.map((p) => `${p.field || ""}: ${p.reason || ""}`).join("; ");
  }
  return text;
}

function showResult(name, text, isError) {
  const el = $(`[data-result="${name}"]`);
  if (!el) return;
  el.textContent = text;
  el.classList.toggle("error-text", Boolean(isError));
}

// -- login ----------------------------------------------------------------------------------
async function login(ev) {
  ev.preventDefault();
  const errorEl = $("#login-error");
  errorEl.textContent = "";
  const badge = $("#badge").value.trim();
  const pin = $("#pin").value;
  if (!badge || !pin) {
    errorEl.textContent = "Enter your badge and PIN.";
    return;
  }
  const button = $("#login-form button[type=submit]");
  button.disabled = true;
  try {
    const resp = await fetch(`${API}/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ badge, pin }),
    });
    let body = null;
    try { body = await resp.json(); } catch (_) { body = null; }
    if (!resp.ok) {
      const code = body && body.message && body.message.code;
      errorEl.textContent = code === "DEVICE_REQUIRED" || code === "FORBIDDEN_ROLE"
        ? `${REFUSED} (${errorText(body, resp.status)})`
        : errorText(body, resp.status);
      return;
    }
    const user = body.data.user;
    if (!MANAGERS.includes(user.role)) {
      errorEl.textContent = REFUSED;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, body.data.token);
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
    $("#pin").value = "";
    enter();
  } catch (e) {
    errorEl.textContent = `Cannot reach the server: ${e.message}`;
  } finally {
    button.disabled = false;
  }
}

function logout(reason) {
  if (streamAbort) streamAbort.abort();
  streamAbort = null;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  $("#dashboard").hidden = true;
  $("#who").hidden = true;
  $("#login").hidden = false;
  setConn("off", "offline");
  if (typeof reason === "string") $("#login-error").textContent = reason;
}

function enter() {
  const user = JSON.parse(sessionStorage.getItem(USER_KEY) || "{}");
  $("#login").hidden = true;
  $("#dashboard").hidden = false;
  $("#who").hidden = false;
  $("#who-name").textContent = `${user.name || user.badge || ""} (${user.role || ""})`;
  startStream();
}

// -- live stream ----------------------------------------------------------------------------
function setConn(state, text) {
  const el = $("#conn");
  el.dataset.state = state;
  el.textContent = text;
}

async function startStream() {
  if (streamAbort) streamAbort.abort();
  const ctrl = new AbortController();
  streamAbort = ctrl;
  let delay = 1000;
  while (!ctrl.signal.aborted && token()) {
    try {
      const resp = await fetch(`${API}/dashboard/stream`, {
        headers: { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" },
        signal: ctrl.signal,
        cache: "no-store",
      });
      if (resp.status === 401 || resp.status === 403) {
        let body = null;
        try { body = await resp.json(); } catch (_) { body = null; }
        logout(resp.status === 403 ? REFUSED : errorText(body, resp.status));
        return;
      }
      if (!resp.ok || !resp.body) throw new Error(`stream answered ${resp.status}`);
      setConn("live", "live");
      delay = 1000;
      await readEvents(resp.body, ctrl.signal);
    } catch (e) {
      if (ctrl.signal.aborted) return;
    }
    setConn("off", "reconnecting");
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 15000);
  }
}

async function readEvents(stream, signal) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "message";
  let data = [];
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
      if (line === "") {
        if (data.length && event === "summary") render(JSON.parse(data.join("\n")));
        event = "message";
        data = [];
      } else if (line.startsWith(":")) {
        // keep-alive comment
      } else if (line.startsWith("event:")) {
        event = line.slice(6).trim();
      } else if (line.startsWith("data:")) {
        data.push(line.slice(5).replace(/^ /, ""));
      }
    }
  }
}

// -- charts (hand-written SVG) ----------------------------------------------------------------
function lineChart(points, { target, label }) {
  const W = 360, H = 140, L = 34, R = 8, T = 10, B = 24;
  const values = points.map((p) => p.value).filter((v) => v !== null && v !== undefined);
  if (!values.length) return `<p class="muted">No data in the last 7 days.</p>`;
  const lo = Math.max(0, Math.floor(Math.min(...values, target ?? 100) - 2));
  const hi = 100;
  const x = (i) => L + (points.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (points.length - 1));
  const y = (v) => T + ((hi - v) * (H - T - B)) / Math.max(1, hi - lo);
  let path = "";
  points.forEach((p, i) => {
    if (p.value === null || p.value === undefined) return;
    path += `${path ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)} `;
  });
  const dots = points.map((p, i) => (p.value === null || p.value === undefined) ? "" :
    `<circle cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="4" fill="#60a5fa"><title>${esc(p.label)}: ${p.value} %</title></circle>`).join("");
  const targetLine = target === undefined || target === null ? "" :
    `<line x1="${L}" x2="${W - R}" y1="${y(target)}" y2="${y(target)}" stroke="#fbbf24" stroke-dasharray="5 4" stroke-width="2"/>` +
    `<text x="${W - R}" y="${y(target) - 4}" text-anchor="end">target ${target} %</text>`;
  const xLabels = points.map((p, i) => `<text x="${x(i)}" y="${H - 6}" text-anchor="middle">${esc(p.label.slice(5))}</text>`).join("");
  const desc = points.map((p) => `${p.label} ${p.value === null ? "no data" : p.value + " %"}`).join(", ");
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(label)}: ${esc(desc)}">
    <text x="2" y="${y(hi) + 4}">${hi}</text><text x="2" y="${y(lo) + 4}">${lo}</text>
    <line x1="${L}" x2="${W - R}" y1="${y(lo)}" y2="${y(lo)}" stroke="#334155"/>
    ${targetLine}
    <path d="${path}" fill="none" stroke="#60a5fa" stroke-width="3"/>${dots}${xLabels}</svg>`;
}

function barChart(rows) {
  if (!rows.length) return `<p class="muted">No labor recorded today.</p>`;
  const byType = {};
  rows.forEach((r) => { (byType[r.task_type || "all"] ||= []).push(r); });
  return Object.entries(byType).map(([type, list]) => {
    const unit = list[0].rate_unit;
    const standard = list[0].standard;
    const max = Math.max(1, standard || 0, ...list.map((r) => r.rate || 0)) * 1.1;
    const rowH = 34, L = 150, W = 900, R = 230;
    const H = list.length * rowH + 24;
    const sx = (v) => L + (v * (W - L - R)) / max;
    const bars = list.map((r, i) => {
      const who = r.worker ? (r.worker.name || r.worker.badge) : "—";
      const rate = r.rate ?? 0;
      const slow = standard && rate < standard;
      return `<g><text x="${L - 8}" y="${i * rowH + 22}" text-anchor="end">${esc(who)}</text>
        <rect x="${L}" y="${i * rowH + 6}" width="${Math.max(2, sx(rate) - L).toFixed(1)}" height="22" fill="${slow ? "#f87171" : "#4ade80"}"><title>${esc(who)}: ${rate} ${unit}/h</title></rect>
        <text x="${(sx(Math.min(rate, max)) + 6).toFixed(1)}" y="${i * rowH + 22}">${num(r.rate)}${r.performance_pct !== null && r.performance_pct !== undefined ? ` · ${r.performance_pct} %` : ""}</text></g>`;
    }).join("");
    const std = standard ? `<line x1="${sx(standard)}" x2="${sx(standard)}" y1="2" y2="${H - 20}" stroke="#fbbf24" stroke-width="3" stroke-dasharray="6 4"/>
      <text x="${sx(standard)}" y="${H - 6}" text-anchor="middle">standard ${standard}</text>` : "";
    const desc = list.map((r) => `${r.worker ? r.worker.badge : ""} ${num(r.rate)}`).join(", ");
    return `<h3>${esc(type)} <span class="muted">(${esc(unit)} per hour)</span></h3>
      <svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(type)} rate per worker in ${esc(unit)} per hour${standard ? `, standard ${standard}` : ""}: ${esc(desc)}">${bars}${std}</svg>`;
  }).join("");
}

function table(headers, rows) {
  if (!rows.length) return `<p class="muted">Nothing to show.</p>`;
  const head = headers.map((h) => `<th scope="col"${h.num ? ' class="num"' : ""}>${esc(h.label)}</th>`).join("");
  const body = rows.map((cells) => `<tr>${cells.map((c, i) =>
    `<td${headers[i] && headers[i].num ? ' class="num"' : ""}>${c}</td>`).join("")}</tr>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

// -- rendering --------------------------------------------------------------------------------
const AGE_LABELS = { lt_1h: "< 1 h", "1_4h": "1–4 h", "4_24h": "4–24 h", gt_24h: "> 24 h" };

function render(s) {
  lastSummary = s;
  $("#site-name").textContent = s.site;
  $("#updated").textContent = `updated ${clock(s.generated_at)}`;
  $("#notice").textContent = s.layout_loaded ? "" : "No layout is loaded for this site yet: picking, waves, labor and counts appear once it is.";

  const rc = s.receiving;
  setKpi("receiving-pct", pct(rc.accuracy_pct));
  setKpi("receiving-target", pct(rc.target_pct));
  setKpi("receiving-lines", String(rc.lines));
  $("#tile-receiving").classList.toggle("bad", rc.lines > 0 && !rc.meets_target);
  $("#tile-receiving").classList.toggle("good", rc.lines > 0 && rc.meets_target);
  $('[data-chart="receiving"]').innerHTML = lineChart(
    rc.trend.map((d) => ({ label: d.day, value: d.accuracy_pct })),
    { target: rc.target_pct, label: "Receiving accuracy per day" });

  const pk = s.picking;
  if (pk) {
    setKpi("pick-pct", pct(pk.pick_accuracy_pct));
    setKpi("scan-pct", pct(pk.scan_accuracy_pct));
    setKpi("picks", String(pk.picks));
    setKpi("mis-scans", String(pk.mis_scans_total));
    setKpi("shorts", String(pk.short_picks));
    $('[data-chart="picking"]').innerHTML = lineChart(
      pk.trend.map((d) => ({ label: d.day, value: d.scan_accuracy_pct })),
      { label: "Scan accuracy per day" });
  }

  const ct = s.counting;
  if (ct) {
    setKpi("ira-pct", pct(ct.ira.overall.pct));
    setKpi("ira-counted", String(ct.ira.overall.counted));
    const classes = Object.entries(ct.ira.by_class).map(([c, f]) => [`class ${esc(c)}`, pct(f.pct), String(f.counted)]);
    const zones = Object.entries(ct.ira.by_zone).map(([z, f]) => [`zone ${esc(z || "—")}`, pct(f.pct), String(f.counted)]);
    $('[data-table="ira"]').innerHTML = table(
      [{ label: "" }, { label: "IRA", num: true }, { label: "counted", num: true }], [...classes, ...zones]);
    setKpi("awaiting-approval", String(ct.awaiting_approval));
    setKpi("open-counts", String(ct.open_tasks));
    setKpi("counts-in-progress", String(ct.in_progress));
    setKpi("recounts-open", String(ct.recounts_open));
    setKpi("awaiting-value", ct.awaiting_value);
    $("#tile-counts").classList.toggle("bad", ct.awaiting_approval > 0);
    renderVariances(ct.variances);
  }

  const od = s.orders;
  setKpi("orders-open", String(od.open));
  setKpi("shipped-24h", String(od.shipped_24h));
  setKpi("cancelled-24h", String(od.cancelled_24h));
  $('[data-table="orders"]').innerHTML = table(
    [{ label: "status" }, ...od.age_buckets.map((b) => ({ label: AGE_LABELS[b] || b, num: true })), { label: "total", num: true }],
    od.by_status.map((e) => [esc(e.status.replace(/_/g, " ")), ...od.age_buckets.map((b) => String(e.ages[b])), `<strong>${e.total}</strong>`]));

  const wv = s.waves;
  setKpi("waves-at-risk", String(wv.at_risk));
  $("#tile-waves").classList.toggle("bad", wv.at_risk > 0);
  $('[data-table="waves"]').innerHTML = table(
    [{ label: "wave" }, { label: "carrier" }, { label: "to cutoff", num: true }, { label: "orders", num: true }, { label: "" }],
    wv.items.map((w) => [
      `${esc(w.number)} <span class="muted">${esc(w.status)}</span>`,
      esc(w.carrier_service),
      `<span class="${w.at_risk ? "risk" : ""}" title="${esc(w.at_risk_reasons.join("; "))}">${w.minutes_to_cutoff} min</span>`,
      String(w.orders),
      w.status === "planned"
        ? `<span class="row-actions"><button type="button" data-release="${esc(w.number)}">Release</button></span>` : "",
    ]));

  const hh = s.handhelds;
  setKpi("hh-online", String(hh.online));
  setKpi("hh-offline", String(hh.offline));
  setKpi("hh-pending", String(hh.pending_scans));
  setKpi("hh-rejections", String(hh.open_rejections));
  $('[data-table="handhelds"]').innerHTML = table(
    [{ label: "handheld" }, { label: "state" }, { label: "queued", num: true }, { label: "refused", num: true }],
    hh.devices.map((d) => [esc(d.name || `#${d.device_id}`),
      d.online ? '<span class="okay">online</span>' : '<span class="risk">offline</span>',
      String(d.pending), String(d.open_rejections)]));

  const ig = s.integration;
  setKpi("wh-health", ig.healthy ? "healthy" : "attention");
  setKpi("wh-pending", String(ig.pending));
  setKpi("wh-failed", String(ig.failed));
  setKpi("wh-p50", ms(ig.latency_ms.p50));
  setKpi("wh-p95", ms(ig.latency_ms.p95));
  setKpi("wh-backlog", secs(ig.backlog_seconds));
  setKpi("wh-events", String(ig.events_24h));
  $("#tile-integration").classList.toggle("bad", !ig.healthy);
  $("#tile-integration").classList.toggle("good", ig.healthy);

  if (s.labor) $('[data-chart="labor"]').innerHTML = barChart(s.labor.rows);
}

function renderVariances(list) {
  const holder = $('[data-table="variances"]');
  // Keep a note being typed: only re-render when the set of variances changed.
  const ids = list.map((v) => v.id).join(",");
  if (holder.dataset.ids === ids) return;
  holder.dataset.ids = ids;
  holder.innerHTML = table(
    [{ label: "bin" }, { label: "SKU" }, { label: "book", num: true }, { label: "counted", num: true },
      { label: "delta", num: true }, { label: "value", num: true }, { label: "counted by" }, { label: "decision" }],
    list.map((v) => [esc(v.location), `${esc(v.sku)}${v.lot ? ` <span class="muted">lot ${esc(v.lot)}</span>` : ""}`,
      String(v.book_qty), String(v.counted_qty), String(v.delta), esc(v.value ?? "–"),
      esc([v.counted_by_badge, v.recounted_by_badge].filter(Boolean).join(" / ")),
      `<span class="row-actions" data-variance="${v.id}">
         <label class="visually-hidden" for="note-${v.id}">Note for variance ${v.id}</label>
         <input id="note-${v.id}" placeholder="note" aria-label="Note for variance ${v.id}">
         <button type="button" class="ok" data-approve="${v.id}">Approve</button>
         <button type="button" class="danger" data-reject="${v.id}">Reject</button></span>`]));
}

// -- actions ----------------------------------------------------------------------------------
async function decide(id, verb) {
  const note = ($(`#note-${id}`) || { value: "" }).value.trim();
  const body = verb === "approve" ? (note ? { note } : {}) : { note };
  try {
    await api("POST", `/counts/variances/${id}/${verb}`, { body });
    showResult("variances", `Variance ${id} ${verb === "approve" ? "approved and posted" : "rejected"}.`);
  } catch (e) {
    showResult("variances", e.message, true);
  }
}

async function releaseWave(number, button) {
  button.disabled = true;
  try {
    await api("POST", `/waves/${encodeURIComponent(number)}/release`, { body: {} });
    $("#notice").textContent = `Wave ${number} released.`;
  } catch (e) {
    $("#notice").textContent = e.message;
  } finally {
    button.disabled = false;
  }
}

function formAction(id, name, run) {
  $(id).addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const button = $("button[type=submit]", form);
    button.disabled = true;
    showResult(name, "Working…");
    try {
      await run(form);
    } catch (e) {
      showResult(name, explain(e), true);
    } finally {
      button.disabled = false;
    }
  });
}

function renderReport(data) {
  const holder = $('[data-result="report"]');
  const scalars = [];
  const tables = [];
  Object.entries(data || {}).forEach(([k, v]) => {
    if (Array.isArray(v) && v.length && typeof v[0] === "object") {
      const cols = Object.keys(v[0]);
      tables.push(`<h4>${esc(k.replace(/_/g, " "))}</h4>` + table(cols.map((c) => ({ label: c.replace(/_/g, " ") })),
        v.map((row) => cols.map((c) => esc(typeof row[c] === "object" ? JSON.stringify(row[c]) : row[c])))));
    } else if (v && typeof v === "object" && !Array.isArray(v)) {
      Object.entries(v).forEach(([k2, v2]) => scalars.push([`${k} ${k2}`, v2]));
    } else {
      scalars.push([k, v]);
    }
  });
  holder.classList.remove("error-text");
  holder.innerHTML = `<dl>${scalars.map(([k, v]) =>
    `<dt>${esc(String(k).replace(/_/g, " "))}</dt><dd>${esc(typeof v === "object" ? JSON.stringify(v) : v)}</dd>`).join("")}</dl>${tables.join("")}`;
}

function wireActions() {
  document.addEventListener("click", (ev) => {
    const t = ev.target.closest("button");
    if (!t) return;
    if (t.dataset.approve) decide(t.dataset.approve, "approve");
    else if (t.dataset.reject) decide(t.dataset.reject, "reject");
    else if (t.dataset.release) releaseWave(t.dataset.release, t);
  });

  formAction("#assign-form", "assign", async (f) => {
    const kind = f.kind.value, id = f.id.value.trim(), badge = f.badge.value.trim();
    if (!/^\d+$/.test(id)) throw new Error("Enter the task's number.");
    await api("POST", `/tasks/${encodeURIComponent(kind)}/${id}/assign`, { body: { badge } });
    showResult("assign", `${kind} task ${id} is now assigned to ${badge}.`);
  });

  formAction("#pairing-form", "pairing", async () => {
    const data = await api("POST", "/devices/pairing-codes", { body: {} });
    $("#pairing-code").textContent = data.code;
    showResult("pairing", `Enter this code on the handheld before ${clock(data.expires_at)}.`);
  });

  formAction("#bins-form", "bins", async (f) => {
    const body = { printer: f.printer.value.trim() };
    const codes = f.codes.value.split(/[\s,]+/).filter(Boolean);
    if (codes.length) body.codes = codes;
    else body.zone = f.zone.value.trim() || null;
    const data = await api("POST", "/labels/bins", { body });
    showResult("bins", `${data.jobs.length} bin label(s) sent to ${body.printer}.`);
  });

  formAction("#lpn-form", "lpn", async (f) => {
    const body = {
      printer: f.printer.value.trim(), lpn: f.lpn.value.trim(), sku: f.sku.value.trim(),
      qty: Number.parseInt(f.qty.value, 10),
    };
    if (f.lot.value.trim()) body.lot = f.lot.value.trim();
    const data = await api("POST", "/labels/lpn", { body });
    showResult("lpn", `LPN label sent (${data.jobs.length} job).`);
  });

  formAction("#import-form", "import", async (f) => {
    const file = f.file.files[0];
    if (!file) throw new Error("Choose a CSV file first.");
    const dry = f.dry_run.checked;
    const report = await api("POST", `/items/import${dry ? "?dry_run=true" : ""}`, { raw: file, contentType: "text/csv" });
    const c = report.counts;
    const holder = $('[data-result="import"]');
    holder.classList.remove("error-text");
    holder.innerHTML = `<p>${dry ? "Checked" : "Imported"}: ${c.rows} rows · ${c.created} created · ${c.updated} updated · ${c.unchanged} unchanged · ${c.refused} refused · ${c.warnings} warnings</p>` +
      (report.problems.length ? `<ul class="problems">${report.problems.map((p) =>
        `<li>line ${p.line} · ${esc(p.sku)} · ${esc(p.field)}: ${esc(p.reason)} (${esc(p.severity)})</li>`).join("")}</ul>` : "");
  });

  formAction("#report-form", "report", async (f) => {
    const q = new URLSearchParams();
    if (f.since.value) q.set("since", f.since.value);
    if (f.until.value) q.set("until", f.until.value);
    const data = await api("GET", `/reports/operations${q.toString() ? `?${q}` : ""}`);
    renderReport(data);
  });

  $("#wall-toggle").addEventListener("click", (ev) => setWall(!document.body.classList.contains("wall")));
  $("#logout").addEventListener("click", () => logout(""));
}

function setWall(on) {
  document.body.classList.toggle("wall", on);
  $("#wall-toggle").setAttribute("aria-pressed", String(on));
}

// -- start --------------------------------------------------------------------------------------
$("#login-form").addEventListener("submit", login);
wireActions();
if (new URLSearchParams(location.search).get("wall") === "1") setWall(true);
if (token()) enter();
