// The web page at `/`: every path with its codecs, readers and bitrate (polled from the JSON API's
// /api/v1/paths), and a live WebRTC preview of each (WHEP). Plain HTML and script, no framework,
// nothing fetched from elsewhere, so it works on a LAN without internet. The script avoids template
// literals: this file holds it in one.

export const PAGE_SCRIPT = String.raw`
'use strict';
var list = document.getElementById('paths');
var status = document.getElementById('status');
var cards = new Map();

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function rate(bps) {
  if (bps === null) return 'bitrate not known yet';
  if (bps >= 1e6) return (bps / 1e6).toFixed(2) + ' Mbit/s';
  if (bps >= 1e3) return (bps / 1e3).toFixed(0) + ' kbit/s';
  return bps + ' bit/s';
}

function card(p) {
  var c = cards.get(p.name);
  if (c) return c;
  var root = el('article', 'path');
  root.dataset.path = p.name;
  var head = el('h2', '', p.name);
  var source = el('p', 'source');
  var facts = el('p', 'facts');
  var video = el('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  var note = el('p', 'note');
  root.append(head, source, facts, video, note);
  list.append(root);
  c = { root: root, source: source, facts: facts, video: video, note: note, pc: null, resource: null, retry: null, playing: false };
  cards.set(p.name, c);
  return c;
}

function update(p) {
  var c = card(p);
  var available = p.state === 'ready';
  c.source.textContent = p.source.description;
  var codecs = p.tracks.map(function (t) { return t.kind + ' ' + t.codec; }).join(', ') || 'no tracks yet';
  c.facts.textContent = codecs + ' \u00b7 ' + p.readers + ' reader' + (p.readers === 1 ? '' : 's') + ' \u00b7 ' + rate(p.bitrate);
  c.facts.dataset.readers = String(p.readers);
  c.facts.dataset.bitrate = String(p.bitrate);
  var blocked = p.tracks.filter(function (t) { return !t.webrtc; }).map(function (t) { return t.codec; });
  var video = p.tracks.some(function (t) { return t.kind === 'video' && t.webrtc; });
  var audio = p.tracks.some(function (t) { return t.kind === 'audio' && t.webrtc; });
  if (blocked.length) c.note.textContent = 'WebRTC cannot carry ' + blocked.join(', ') + ' (the preview leaves it out)';
  else if (!available) c.note.textContent = p.reason || 'not available';
  else if (!c.playing) c.note.textContent = '';
  c.video.hidden = !video && !audio;
  if ((video || audio) && available && !c.pc && !c.retry) play(p.name, c, video, audio);
}

// The offer goes as soon as it holds one candidate (or gathering ends; at most half a second):
// waiting for every interface costs a few hundred milliseconds, and the server learns the rest
// from the browser's connectivity checks (peer-reflexive candidates).
function candidateReady(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise(function (resolve) {
    var t = setTimeout(resolve, 500);
    function done() { clearTimeout(t); resolve(); }
    pc.addEventListener('icecandidate', function (e) { if (e.candidate) done(); });
    pc.addEventListener('icegatheringstatechange', function () {
      if (pc.iceGatheringState === 'complete') done();
    });
  });
}

function stop(c, again) {
  if (c.pc) c.pc.close();
  c.pc = null;
  c.playing = false;
  if (c.resource) fetch(c.resource, { method: 'DELETE', keepalive: true }).catch(function () {});
  c.resource = null;
  if (again && !c.retry) c.retry = setTimeout(function () { c.retry = null; }, 3000);
}

async function play(path, c, video, audio) {
  var pc = new RTCPeerConnection();
  c.pc = pc;
  if (video) pc.addTransceiver('video', { direction: 'recvonly' });
  if (audio) pc.addTransceiver('audio', { direction: 'recvonly' });
  var media = new MediaStream();
  pc.ontrack = function (e) { media.addTrack(e.track); c.video.srcObject = media; };
  pc.onconnectionstatechange = function () {
    if (pc !== c.pc) return;
    if (pc.connectionState === 'connected') { c.playing = true; c.note.textContent = ''; }
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
      c.note.textContent = 'preview ' + pc.connectionState + '; retrying';
      stop(c, true);
    }
  };
  try {
    var ready = candidateReady(pc);
    await pc.setLocalDescription(await pc.createOffer());
    await ready;
    var res = await fetch('whep' + path.split('/').map(encodeURIComponent).join('/'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
    });
    if (res.status !== 201) {
      var why = await res.json().catch(function () { return {}; });
      throw new Error(why.error || 'HTTP ' + res.status);
    }
    c.resource = res.headers.get('Location');
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  } catch (err) {
    if (pc !== c.pc) return;
    c.note.textContent = 'no preview: ' + err.message;
    stop(c, true);
  }
}

async function refresh() {
  try {
    var res = await fetch('api/v1/paths', { cache: 'no-store' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    var data = await res.json();
    var seen = new Set();
    for (var p of data.items) { seen.add(p.name); update(p); }
    for (var entry of cards) {
      if (!seen.has(entry[0])) { stop(entry[1], false); entry[1].root.remove(); cards.delete(entry[0]); }
    }
    status.textContent = data.items.length + ' path' + (data.items.length === 1 ? '' : 's') + ', updated ' + new Date().toLocaleTimeString();
  } catch (err) {
    status.textContent = 'cannot reach the server: ' + err.message;
  }
}

window.addEventListener('pagehide', function () { for (var c of cards.values()) stop(c, false); });
refresh();
setInterval(refresh, 1500);
`;

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>smolrtsp</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem; background: #111; color: #ddd; }
h1 { font-size: 1.2rem; margin: 0 0 .2rem; }
#status { color: #888; margin: 0 0 1rem; }
#paths { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1rem; }
.path { background: #1c1c1c; border-radius: 6px; padding: .8rem; }
.path h2 { font-size: 1rem; margin: 0; font-family: monospace; }
.path p { margin: .2rem 0; }
.source { color: #aaa; }
.note { color: #e8a33c; min-height: 1.2em; }
video { width: 100%; background: #000; aspect-ratio: 4 / 3; display: block; }
</style>
</head>
<body>
<h1>smolrtsp</h1>
<p id="status">loading…</p>
<main id="paths"></main>
<script src="web/app.js"></script>
</body>
</html>
`;
