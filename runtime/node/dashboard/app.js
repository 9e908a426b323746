// cmsd dashboard: polls this node's HTTP API every 2 s and renders the pair at a glance.
// Plain browser JavaScript (no libraries, no build step); the chart is drawn by hand on a canvas.
"use strict";

const POLL_MS = 2000;
const HISTORY_POINTS = 150; // 5 minutes at one point per 2 s

const history = []; // {t, attempts, failures} rates per second
let previousCounters = null;
let lastEventSeq = 0;
const events = [];

function $(id) { return document.getElementById(id); }

function text(id, value) {
  const el = $(id);
  if (el) el.textContent = value === undefined || value === null || value === "" ? "—" : String(value);
}

function stateClass(el, state) {
  el.className = el.className.split(" ").filter(c => !c.startsWith("state-") && !c.startsWith("role-")).join(" ");
  el.classList.add("state-" + String(state).replace(/[^a-z_-]/gi, ""));
}

function setRole(id, role) {
  const el = $(id);
  el.textContent = role || "—";
  el.className = "role role-" + (role ? String(role).replace(/[^a-z-]/gi, "") : "unknown");
}

function setState(id, state) {
  const el = $(id);
  el.textContent = state || "—";
  stateClass(el, state || "unknown");
}

async function getJson(path) {
  const res = await fetch(path, { cache: "no-store" });
  if (!res.ok) {
    const err = new Error(path + ": HTTP " + res.status);
    err.status = res.status;
    throw err;
  }
  return res.json();
}

function sumCounters(counters, prefix) {
  let sum = 0;
  for (const [key, value] of Object.entries(counters || {})) {
    if (key === prefix || key.startsWith(prefix + "{")) sum += Number(value) || 0;
  }
  return sum;
}

function formatDuration(seconds) {
  seconds = Math.floor(seconds);
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
  const m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + s + "s";
}

function formatTime(ms) {
  if (!ms) return "never";
  const d = new Date(ms);
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

function escapeHtml(s) {
  return String(s === undefined || s === null ? "" : s)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

let thisRole = "";

function renderStatus(status) {
  thisRole = status.role;
  text("node-id", status.node_id);
  setRole("node-role", status.role);
  text("node-epoch", status.epoch);
  text("node-uptime", formatDuration(status.uptime_s || 0));
  text("node-version", status.version);
  const c = status.counters || {};
  text("calls-active", sumCounters(c, "cms_calls_active"));
  text("calls-attempts", sumCounters(c, "cms_call_attempts_total"));
  text("calls-completions", sumCounters(c, "cms_call_completions_total"));
  text("calls-failures", sumCounters(c, "cms_call_failures_total"));
  text("endpoints", sumCounters(c, "cms_endpoints_registered") + " / " + sumCounters(c, "cms_endpoints_total"));

  // Rates from counter differences between two polls.
  const now = Date.now();
  const current = {
    t: now,
    attempts: sumCounters(c, "cms_call_attempts_total"),
    failures: sumCounters(c, "cms_call_failures_total"),
  };
  if (previousCounters && now > previousCounters.t) {
    const dt = (now - previousCounters.t) / 1000;
    history.push({
      t: now,
      attempts: Math.max(0, current.attempts - previousCounters.attempts) / dt,
      failures: Math.max(0, current.failures - previousCounters.failures) / dt,
    });
    while (history.length > HISTORY_POINTS) history.shift();
  }
  previousCounters = current;
  drawChart();
}

function renderCluster(cluster) {
  const admission = $("node-admission");
  admission.textContent = cluster.draining ? "draining (new calls refused)" : "accepting calls";
  stateClass(admission, cluster.draining ? "draining" : "ok");
  text("node-failover", cluster.last_failover_ms
    ? formatTime(cluster.last_failover_ms) + " — " + cluster.last_failover_reason : "never");
  const peer = cluster.peer || {};
  text("peer-id", peer.node_id || "not seen");
  setRole("peer-role", peer.role);
  text("peer-epoch", peer.epoch);
  setState("peer-state", cluster.peer_state);
  const paths = cluster.heartbeat_paths || {};
  setState("hb-link", paths.node_link);
  setState("hb-udp", paths.udp);
  text("repl-lag", (cluster.replication_lag_records || 0) + " records, "
    + Math.round(cluster.replication_lag_ms || 0) + " ms");
}

function renderLinks(links) {
  const rows = (links.items || []).map(l =>
    "<tr><td>" + escapeHtml(l.name) + "</td><td>" + escapeHtml(l.kind) + "</td>"
    + "<td class=\"state-" + escapeHtml(l.state) + "\">" + escapeHtml(l.state) + "</td>"
    + "<td class=\"state-" + escapeHtml(l.admin_state) + "\">" + escapeHtml(l.admin_state) + "</td>"
    + "<td>" + escapeHtml(l.remote_address) + ":" + escapeHtml(l.remote_port) + "</td></tr>");
  $("links-body").innerHTML = rows.length ? rows.join("")
    : "<tr><td colspan=\"5\" class=\"muted\">no data links provisioned</td></tr>";
}

function renderTrunks(trunks) {
  const gws = (trunks.gateways || []).map(g =>
    "<tr><td>" + escapeHtml(g.name) + "</td><td>" + escapeHtml(g.role) + "</td><td>" + escapeHtml(g.segment) + "</td>"
    + (thisRole === "active"
      ? "<td class=\"state-" + escapeHtml(gatewayState(g).split(" ")[0]) + "\">" + escapeHtml(gatewayState(g)) + "</td>"
      : "<td class=\"state-unknown\">watched by the active</td>")
    + "<td class=\"state-" + escapeHtml(g.admin_state) + "\">" + escapeHtml(g.admin_state || "in_service") + "</td>"
    + "<td>" + escapeHtml((g.carrying || g.facilities || []).join(", ")) + "</td></tr>");
  $("gateways-body").innerHTML = gws.length ? gws.join("")
    : "<tr><td colspan=\"6\" class=\"muted\">no gateways provisioned</td></tr>";
  const fac = (trunks.items || []).map(f =>
    "<tr><td>" + escapeHtml(f.id) + "</td><td>" + escapeHtml(f.gateway) + "</td><td>" + escapeHtml(f.kind) + "</td>"
    + "<td>" + escapeHtml(f.carrier_name || f.carrier) + "</td><td>" + escapeHtml(f.channels) + "</td>"
    + "<td class=\"state-" + escapeHtml(f.state) + "\">" + escapeHtml(f.state) + "</td></tr>");
  $("facilities-body").innerHTML = fac.length ? fac.join("")
    : "<tr><td colspan=\"6\" class=\"muted\">no facilities provisioned</td></tr>";
}

function renderCalls(calls) {
  if (!calls) {
    $("calls-list-note").textContent = "(call list not available on this node)";
    $("calls-body").innerHTML = "<tr><td colspan=\"4\" class=\"muted\">—</td></tr>";
    return;
  }
  const items = calls.items || [];
  $("calls-list-note").textContent = "(" + items.length + " of " + (calls.total || 0) + ")";
  const rows = items.map(c =>
    "<tr><td>" + escapeHtml(c.id || c.call_id) + "</td><td>" + escapeHtml(c.calling_number || c.from || c.originating)
    + "</td><td>" + escapeHtml(c.called_number || c.to || c.terminating) + "</td><td>" + escapeHtml(c.state || c.phase)
    + "</td></tr>");
  $("calls-body").innerHTML = rows.length ? rows.join("")
    : "<tr><td colspan=\"4\" class=\"muted\">no calls in progress</td></tr>";
}

function renderEvents(answer) {
  for (const e of answer.items || []) {
    if (e.seq > lastEventSeq) {
      events.unshift(e);
      lastEventSeq = e.seq;
    }
  }
  while (events.length > 50) events.pop();
  $("events-list").innerHTML = events.length ? events.map(e =>
    "<li class=\"sev-" + escapeHtml(e.severity) + "\"><span class=\"time\">"
    + escapeHtml(new Date(e.time_ms).toISOString().substring(11, 19)) + "</span>"
    + (e.node ? "<span class=\"who\">" + escapeHtml(e.node) + (e.role ? " (" + escapeHtml(e.role) + ")" : "") + "</span>" : "")
    + escapeHtml(e.message) + "</li>").join("") : "<li class=\"muted\">no events yet</li>";
}

// The network picture (top of the page): which box each API value belongs to.
// /trunks gives each gateway's health as a boolean; the page shows words.
function gatewayState(g) {
  if (g.admin_state === "out_of_service") return "out_of_service";
  if (g.state) return g.state;
  if (g.healthy === undefined) return "unknown";
  return g.healthy ? "in_service" : (g.forced ? "failed (RSIP forced)" : "failed");
}

function gatewayBox(g, watching) {
  const spare = g.role === "cold_spare";
  const carrying = (g.carrying || g.facilities || []).join(", ");
  // Only the active node talks to the gateways; a standby's own reading is no news.
  const state = watching ? gatewayState(g) : "watched by the active";
  const box = !watching ? "unknown" : state.startsWith("failed") ? "failed" : state;
  return "<li class=\"box gw state-box-" + escapeHtml(box) + "\" data-gateway=\"" + escapeHtml(g.name) + "\">"
    + "<b>" + escapeHtml(String(g.name).split(".")[0]) + "</b>" + (spare ? " <span class=\"muted\">cold spare</span>" : "")
    + "<div class=\"state-" + escapeHtml(box) + "\">" + escapeHtml(state) + "</div>"
    + "<div class=\"muted\">" + escapeHtml(carrying ? "carries " + carrying : (spare ? "cold: carries nothing" : "carries nothing"))
    + "</div></li>";
}

function renderNetwork(status, cluster, links, trunks) {
  const gws = trunks.gateways || [];
  const partner = gws.filter(g => g.segment === "partner");
  const local = gws.filter(g => g.segment !== "partner");
  const watching = status.role === "active";
  const boxes = list => list.length ? list.map(g => gatewayBox(g, watching)).join("") : "<li class=\"muted\">none provisioned</li>";
  $("net-partner-gateways").innerHTML = boxes(partner);
  $("net-local-gateways").innerHTML = boxes(local);

  for (const kind of ["primary", "backup"]) {
    const l = (links.items || []).find(x => x.kind === kind);
    const state = !l ? "unknown" : (l.admin_state === "out_of_service" ? "out_of_service" : l.state);
    const el = $("net-link-" + kind + "-state");
    el.textContent = l ? l.name + " " + state : "not provisioned";
    $("net-link-" + kind).className = "link state-box-" + state;
  }
  const preferred = trunks.preferred_segment || (trunks.primary_link_up ? "partner" : "local");
  text("net-offnet", "off-net calls: " + preferred + " segment first");

  const c = status.counters || {};
  const path = sumCounters(c, "cms_billing_forwarder_path");
  text("net-billing-path", path === 1 ? "primary link" : path === 2 ? "backup link" : "no link (held in the outbox)");
  $("net-rks").className = "box state-box-" + (path === 1 ? "up" : path === 2 ? "degraded" : "down");
  text("net-billing-sent", sumCounters(c, "cms_billing_forwarder_records_total"));
  text("net-billing-pending", sumCounters(c, "cms_billing_outbox_pending"));

  // The pair: this node and its peer, each with its role and epoch.
  const peer = cluster.peer || {};
  const me = "<li class=\"box state-box-" + (status.role === "active" ? "up" : "standby") + "\" id=\"net-this\"><b>"
    + escapeHtml(status.node_id) + "</b> <span class=\"muted\">this node</span><div class=\"role role-" + escapeHtml(status.role)
    + "\">" + escapeHtml(status.role) + "</div><div>epoch " + escapeHtml(status.epoch) + "</div></li>";
  const peerUp = cluster.peer_state === "up";
  const them = "<li class=\"box state-box-" + (peerUp ? (peer.role === "active" ? "up" : "standby") : "down") + "\" id=\"net-peer\"><b>"
    + escapeHtml(peer.node_id || "peer") + "</b> <span class=\"muted\">peer</span><div class=\"role role-"
    + escapeHtml(peerUp ? peer.role : "unknown") + "\">" + escapeHtml(peerUp ? peer.role : "lost") + "</div><div>epoch "
    + escapeHtml(peerUp ? peer.epoch : "—") + "</div></li>";
  $("net-cms").innerHTML = me + them;

  const registered = sumCounters(c, "cms_endpoints_registered");
  const total = sumCounters(c, "cms_endpoints_total");
  text("net-mtas", registered + " / " + total);
  text("net-calls", sumCounters(c, "cms_calls_active"));
  $("net-access").className = "box state-box-" + (total && registered === total ? "up" : registered ? "degraded" : "down");
  // A standby keeps a replicated view and talks to no gateway: say so rather than alarm.
  text("net-view", status.role === "active" ? "(as the active node sees it)"
    : "(standby view: the active node talks to the gateways and reports their alarms)");
}

function drawChart() {
  const canvas = $("rate-chart");
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  const pad = { l: 44, r: 10, t: 10, b: 22 };
  ctx.clearRect(0, 0, w, h);
  ctx.font = "12px sans-serif";
  let max = 1;
  for (const p of history) max = Math.max(max, p.attempts, p.failures);
  max = Math.ceil(max * 1.2);
  // Grid and axis labels.
  ctx.strokeStyle = "#263444";
  ctx.fillStyle = "#7f91a3";
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = pad.t + (h - pad.t - pad.b) * i / 4;
    ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(w - pad.r, y); ctx.stroke();
    ctx.fillText((max * (4 - i) / 4).toFixed(max < 8 ? 1 : 0), 4, y + 4);
  }
  ctx.fillText("-5 min", pad.l, h - 6);
  ctx.fillText("now", w - pad.r - 24, h - 6);
  const xOf = i => pad.l + (w - pad.l - pad.r) * (i + HISTORY_POINTS - history.length) / (HISTORY_POINTS - 1);
  const yOf = v => pad.t + (h - pad.t - pad.b) * (1 - v / max);
  const series = (key, color) => {
    if (history.length < 1) return;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    history.forEach((p, i) => (i ? ctx.lineTo(xOf(i), yOf(p[key])) : ctx.moveTo(xOf(i), yOf(p[key]))));
    ctx.stroke();
  };
  series("attempts", "#58a6ff");
  series("failures", "#f85149");
  if (history.length === 0) {
    ctx.fillStyle = "#7f91a3";
    ctx.fillText("collecting samples…", w / 2 - 50, h / 2);
  }
}

async function poll() {
  const badge = $("poll-status");
  try {
    const status = await getJson("/status");
    renderStatus(status);
    const [cluster, links, trunks, ev] = await Promise.all([
      getJson("/cluster"), getJson("/links?limit=1000"), getJson("/trunks?limit=1000"),
      getJson("/events?after=" + lastEventSeq),
    ]);
    renderCluster(cluster);
    renderLinks(links);
    renderTrunks(trunks);
    renderEvents(ev);
    renderNetwork(status, cluster, links, trunks);
    let calls = null;
    try { calls = await getJson("/calls?limit=20"); } catch (e) { calls = null; }
    renderCalls(calls);
    let healthy = false;
    try { healthy = (await getJson("/healthz")).status === "ok"; } catch (e) { healthy = false; }
    const health = $("node-health");
    health.textContent = healthy ? "ok" : "not responding";
    stateClass(health, healthy ? "ok" : "down");
    badge.textContent = "live";
    badge.className = "badge badge-ok";
    text("last-refresh", new Date().toISOString().substring(11, 19) + " UTC");
    document.body.dataset.loaded = "true";
  } catch (e) {
    badge.textContent = "node unreachable";
    badge.className = "badge badge-bad";
  }
}

drawChart();
poll();
setInterval(poll, POLL_MS);
