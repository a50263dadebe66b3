// The admin view's page: plain HTML, a style sheet and one script, no framework. The key is typed in and kept
// in the script's memory only (not storage, not a cookie, never a URL); every call is a same-origin POST with
// it as a bearer header. Data is written with textContent only, and the CSP admits exactly this script and
// style (by hash), so a channel name or message can never run as code. Charts are small SVG paths.
import { createHash } from "node:crypto";

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 1rem 2rem; color: #222; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.hidden { display: none; }
.error { color: #b00; }
table { border-collapse: collapse; } td, th { padding: .2rem .8rem .2rem 0; text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; margin-top: .8rem; }
figure { margin: 0; } figcaption { font-size: .85rem; color: #555; }
svg.chart { width: 260px; height: 80px; background: #f6f6f6; border: 1px solid #ddd; }
svg.chart path { fill: none; stroke: #2a6fdb; stroke-width: 1.5; }
svg.chart text { font-size: 10px; fill: #888; }
.panels { display: flex; flex-wrap: wrap; gap: 2rem; }
.panels > section { min-width: 280px; }
ol, ul { padding-left: 1.2rem; max-height: 16rem; overflow: auto; }
code { background: #f3f3f3; }
`;

const SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
const MAX_POINTS = 300;
let key = "";
let lastSample = 0;
let currentChannel = "";
let timers = [];
const series = { connections: [], channels: [], published: [], delivered: [], p99: [] };

class Unauthorized extends Error {}

async function call(name, body) {
  const res = await fetch("/admin/api/" + name, {
    method: "POST",
    headers: { authorization: "Bearer " + key, "content-type": "application/json" },
    body: JSON.stringify(body || {}),
    cache: "no-store",
    credentials: "omit",
  });
  const answer = await res.json().catch(() => ({}));
  if (res.status === 401 || res.status === 403) throw new Unauthorized(answer.message || "refused");
  if (!res.ok) throw new Error(answer.message || "HTTP " + res.status);
  return answer;
}

function text(el, value) { el.textContent = String(value); }
function item(tag, value) { const el = document.createElement(tag); text(el, value); return el; }

function draw(name, values) {
  const svg = $("chart-" + name);
  const path = svg.querySelector("path");
  const finite = values.filter((v) => v !== null);
  const top = Math.max(0, ...finite);
  const max = top || 1;
  // The x scale is at least a minute wide and grows to MAX_POINTS; the newest point is on the right edge.
  const span = Math.min(MAX_POINTS, Math.max(60, values.length));
  const step = 260 / (span - 1);
  const offset = span - values.length;
  let d = "";
  let pen = "M";
  values.forEach((v, i) => {
    if (v === null) { pen = "M"; return; }
    d += pen + ((offset + i) * step).toFixed(1) + " " + (78 - (v / max) * 74).toFixed(1) + " ";
    pen = "L";
  });
  path.setAttribute("d", d.trim());
  const last = values.length ? values[values.length - 1] : null;
  svg.dataset.points = String(values.length);
  svg.dataset.last = last === null ? "" : String(last);
  svg.dataset.max = String(top);
  text(svg.querySelector("text"), "max " + Number(top.toFixed(2)));
  text($("value-" + name), last === null ? "–" : Number(last.toFixed(2)));
}

async function pollLive() {
  const { samples } = await call("live", { since: lastSample });
  for (const s of samples) {
    lastSample = s.t;
    series.connections.push(s.connections);
    series.channels.push(s.channels);
    series.published.push(s.publishedPerSecond);
    series.delivered.push(s.deliveredPerSecond);
    series.p99.push(s.p99Ms);
  }
  for (const [name, values] of Object.entries(series)) {
    if (values.length > MAX_POINTS) values.splice(0, values.length - MAX_POINTS);
    draw(name, values);
  }
}

function uptime(seconds) {
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60);
  return (h ? h + "h " : "") + m + "m " + (seconds % 60) + "s";
}

async function pollFleet() {
  const { nodes } = await call("info");
  const rows = nodes.map((n) => {
    const tr = document.createElement("tr");
    tr.dataset.node = n.node;
    for (const v of [n.node, n.connections, n.channels, uptime(n.uptimeSeconds), n.version]) tr.append(item("td", v));
    return tr;
  });
  $("nodes").replaceChildren(...rows);
  const { channels } = await call("channels");
  $("channels").replaceChildren(...channels.slice(0, 50).map((c) => {
    const li = document.createElement("li");
    const b = item("button", c.channel);
    b.type = "button";
    b.addEventListener("click", () => { $("channel").value = c.channel; lookup(c.channel).catch(fail); });
    li.append(b, " " + c.subscribers + " subscriber(s)");
    return li;
  }));
}

async function lookup(channel) {
  currentChannel = channel;
  $("pub-channel").value = channel;
  const [list, presence, history] = await Promise.all([
    call("channels", { pattern: channel }),
    call("presence", { channel }),
    call("history", { channel, limit: 20 }),
  ]);
  if (channel !== currentChannel) return;
  const here = list.channels.find((c) => c.channel === channel);
  text($("ch-name"), channel);
  text($("ch-subscribers"), here ? here.subscribers : 0);
  text($("ch-position"), "offset " + history.offset + ", epoch " + history.epoch);
  $("ch-presence").replaceChildren(...presence.members.map((m) =>
    item("li", (m.sub === undefined ? "(anonymous)" : m.sub) + " · " + m.connectionId + " on " + m.node)));
  $("ch-history").replaceChildren(...history.messages.map((m) => {
    const li = item("li", JSON.stringify(m.data));
    li.value = m.offset;
    return li;
  }));
  $("channel-view").classList.remove("hidden");
}

function fail(err) {
  if (err instanceof Unauthorized) return logout(err.message);
  text($("status"), err.message);
}

function every(ms, fn) {
  const run = () => fn().catch(fail);
  run();
  timers.push(setInterval(run, ms));
}

function logout(message) {
  for (const t of timers) clearInterval(t);
  timers = [];
  key = "";
  $("dashboard").classList.add("hidden");
  $("login").classList.remove("hidden");
  text($("login-error"), message || "");
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  key = $("key").value;
  $("key").value = "";
  try {
    await call("info");
  } catch (err) {
    return logout(err.message);
  }
  $("login").classList.add("hidden");
  $("dashboard").classList.remove("hidden");
  text($("login-error"), "");
  every(1000, pollLive);
  every(2000, pollFleet);
  every(2000, () => (currentChannel ? lookup(currentChannel) : Promise.resolve()));
});

$("logout").addEventListener("click", () => logout(""));

$("lookup").addEventListener("submit", (e) => {
  e.preventDefault();
  lookup($("channel").value.trim()).catch(fail);
});

$("publish").addEventListener("submit", async (e) => {
  e.preventDefault();
  const channel = $("pub-channel").value.trim();
  try {
    let data;
    try { data = JSON.parse($("pub-data").value); } catch { throw new Error("the message is not valid JSON"); }
    const r = await call("publish", { channel, data });
    text($("pub-result"), "published at offset " + r.offset);
    if (channel === currentChannel || !currentChannel) await lookup(channel);
  } catch (err) {
    text($("pub-result"), "");
    fail(err);
  }
});

$("disconnect").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const r = await call("disconnect", { user: $("user").value.trim() });
    text($("disc-result"), "disconnect sent to " + r.nodes + " node(s)");
  } catch (err) {
    fail(err);
  }
});
`;

const CHARTS: [id: string, label: string][] = [
  ["connections", "connections"],
  ["channels", "channels"],
  ["published", "messages/s published (this node)"],
  ["delivered", "messages/s delivered (this node)"],
  ["p99", "p99 delivery latency, ms (this node)"],
];

const chart = ([id, label]: [string, string]) =>
  `<figure><svg class="chart" id="chart-${id}" viewBox="0 0 260 80" data-points="0" data-last="" data-max="0"><text x="4" y="11"></text><path d=""/></svg>` +
  `<figcaption>${label}: <b id="value-${id}">–</b></figcaption></figure>`;

export const ADMIN_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>realtime-gateway admin</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style></head>
<body>
<h1>realtime-gateway admin</h1>
<form id="login">
  <label>Admin key <input id="key" type="password" autocomplete="off" required></label>
  <button type="submit">Open</button> <span id="login-error" class="error"></span>
</form>
<main id="dashboard" class="hidden">
  <p><button id="logout" type="button">Forget the key</button> <span id="status" class="error"></span></p>
  <h2>Fleet</h2>
  <table><thead><tr><th>node</th><th>connections</th><th>channels</th><th>uptime</th><th>version</th></tr></thead>
  <tbody id="nodes"></tbody></table>
  <div class="charts">${CHARTS.map(chart).join("")}</div>
  <div class="panels">
  <section><h2>Active channels</h2><ul id="channels"></ul></section>
  <section><h2>Channel</h2>
    <form id="lookup"><input id="channel" placeholder="chat:42" required> <button type="submit">Look up</button></form>
    <div id="channel-view" class="hidden">
      <p><code id="ch-name"></code>: <b id="ch-subscribers"></b> subscriber(s), <span id="ch-position"></span></p>
      <h3>Presence</h3><ul id="ch-presence"></ul>
      <h3>Recent history</h3><ol id="ch-history"></ol>
    </div>
  </section>
  <section><h2>Publish</h2>
    <form id="publish">
      <p><input id="pub-channel" placeholder="channel" required></p>
      <p><textarea id="pub-data" rows="3" cols="36" required>{"text":"hello"}</textarea></p>
      <button type="submit">Publish</button> <span id="pub-result"></span>
    </form>
    <h2>Disconnect a user</h2>
    <form id="disconnect">
      <input id="user" placeholder="user (the token's sub)" required> <button type="submit">Disconnect</button>
      <span id="disc-result"></span>
    </form>
  </section>
  </div>
</main>
<script>${SCRIPT}</script>
</body></html>
`;

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/** Only this page's own script and style run; fetches go to this origin only; no framing. */
export const ADMIN_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");
