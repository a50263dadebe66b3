// The page at `/`: connect, subscribe, publish, and watch messages and the connection count. No framework.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>realtime-gateway</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; max-width: 56rem; color: #222; }
  fieldset { border: 1px solid #ccc; margin: 0 0 1rem; padding: .6rem 1rem; }
  input { font: inherit; padding: .2rem .4rem; }
  input.wide { width: 24rem; }
  button { font: inherit; padding: .2rem .8rem; }
  #log { border: 1px solid #ccc; height: 22rem; overflow: auto; padding: .4rem; font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap; }
  .in { color: #064; } .out { color: #035; } .sys { color: #777; }
  #stats { color: #555; }
</style>
</head>
<body>
<h1>realtime-gateway</h1>
<p id="stats">connections: <span id="connections">?</span> · channels: <span id="channels">?</span> · node: <span id="node">?</span></p>
<fieldset>
  <legend>Connection</legend>
  <label>Token (only with RTGW_AUTH=jwt) <input id="token" class="wide" placeholder="optional JWT"></label>
  <button id="connect">Connect</button> <button id="disconnect" disabled>Disconnect</button>
  <span id="state">disconnected</span>
</fieldset>
<fieldset>
  <legend>Subscribe</legend>
  <input id="sub-channel" value="demo"> <button id="subscribe" disabled>Subscribe</button>
</fieldset>
<fieldset>
  <legend>Publish</legend>
  <input id="pub-channel" value="demo"> <input id="pub-data" class="wide" value='{"text":"hello"}'>
  <button id="publish" disabled>Publish</button>
</fieldset>
<div id="log"></div>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  let ws = null;
  let nextId = 1;
  const log = (cls, text) => {
    const line = document.createElement("div");
    line.className = cls;
    line.textContent = new Date().toISOString().slice(11, 23) + " " + text;
    $("log").appendChild(line);
    $("log").scrollTop = $("log").scrollHeight;
  };
  const setConnected = (on) => {
    $("connect").disabled = on;
    $("disconnect").disabled = !on;
    $("subscribe").disabled = !on;
    $("publish").disabled = !on;
    $("state").textContent = on ? "connected" : "disconnected";
  };
  const send = (frame) => {
    frame.id = nextId++;
    ws.send(JSON.stringify(frame));
    log("out", "→ " + JSON.stringify(frame));
  };
  $("connect").onclick = () => {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const token = $("token").value.trim();
    ws = new WebSocket(proto + "//" + location.host + "/ws" + (token ? "?token=" + encodeURIComponent(token) : ""));
    $("state").textContent = "connecting";
    ws.onopen = () => { setConnected(true); log("sys", "open"); };
    ws.onmessage = (e) => {
      const parsed = JSON.parse(e.data);
      for (const frame of Array.isArray(parsed) ? parsed : [parsed]) log("in", "← " + JSON.stringify(frame));
    };
    ws.onclose = (e) => { setConnected(false); log("sys", "closed " + e.code + " " + e.reason); ws = null; };
  };
  $("disconnect").onclick = () => ws && ws.close(1000);
  $("subscribe").onclick = () => send({ type: "subscribe", channel: $("sub-channel").value, id: 0 });
  $("publish").onclick = () => {
    let data;
    try { data = JSON.parse($("pub-data").value); } catch { data = $("pub-data").value; }
    send({ type: "publish", channel: $("pub-channel").value, data, id: 0 });
  };
  const poll = async () => {
    try {
      const s = await (await fetch("/api/stats", { cache: "no-store" })).json();
      $("connections").textContent = s.connections;
      $("channels").textContent = s.channels;
      $("node").textContent = s.node;
    } catch {}
  };
  poll();
  setInterval(poll, 1000);
})();
</script>
</body>
</html>
`;
