// A fleet's load on one relay, at the protocol level (no GStreamer, no browser):
// `startFleet` opens many agents that say hello, answer heartbeats and send status
// with changing figures as a real agent does; `openPage` opens one viewer socket
// that subscribes and counts what it is sent. For tests and bench/fleet.mjs.
// Every timer stops with stop()/close(); nothing here retries without a bound.
import WebSocket from 'ws';

const jitter = (lo, hi) => lo + Math.random() * (hi - lo);

// The hello of agent `id`, one camera of the same id (what `sightline-agent --id`
// sends with the test source).
export function helloFor(id) {
  return {
    type: 'hello', protocol: 1, agent: id,
    cameras: [{ id, width: 640, height: 480, fps: 15, codec: 'H264', source: 'test', encoder: 'x264enc' }],
  };
}

// Opens `count` agents named `${prefix}${i}` (i from 0, zero-padded to 5 digits so ids
// sort as numbers), at most `connectConcurrency` handshakes in flight (all at once
// by default). Each answers every relay heartbeat at once, sends its own every
// `heartbeatEveryMs`, and a status every `statusEveryMs` (first one at a random
// point of the first period) whose fps and bitrate differ from the last one.
// An offer is answered with session_end (there is no media here).
// A socket the relay closes with 1013 (try again later) is opened again after
// 1-5 s (jittered) when `reconnect` is true; otherwise, and for any other close,
// the agent stays closed. `welcomeType`: the message that counts as the welcome
// ('hello' against an echo server, the benchmark's reference, which is also given
// `answerHeartbeats: false` so that echoed heartbeats do not bounce for ever).
// Returns { agents, ids, counts, stop(), ready(timeoutMs) }.
export function startFleet({
  port, count, prefix = 'fleet-', statusEveryMs = 2000, heartbeatEveryMs = 1000,
  connectConcurrency = count, reconnect = false, host = '127.0.0.1', first = 0, welcomeType = 'welcome',
  answerHeartbeats = true,
}) {
  const url = `ws://${host}:${port}/ws/agent`;
  const counts = {
    opened: 0, welcomed: 0, everWelcomed: 0, closed: 0, errors: 0, reconnects: 0, sent: 0, received: 0,
    closeCodes: {}, offers: 0, relayErrors: 0, lastError: null, lastWelcomeAt: 0,
  };
  const agents = [];
  let stopped = false;
  let inFlight = 0;
  const queue = [];

  const pump = () => {
    while (!stopped && inFlight < connectConcurrency && queue.length) connect(queue.shift());
  };

  const send = (agent, msg) => {
    if (agent.ws?.readyState !== WebSocket.OPEN) return;
    agent.ws.send(JSON.stringify(msg));
    counts.sent++;
  };

  const status = (agent) => {
    agent.seq++;
    // Whole numbers (as the agent reports them); bitrate always differs from the last.
    const fps = 14 + Math.floor(Math.random() * 2);
    agent.bitrate = 800 + ((agent.bitrate - 800 + 1 + Math.floor(Math.random() * 400)) % 401);
    send(agent, { type: 'status', camera: agent.id, branches: 0, fps, bitrate_kbps: agent.bitrate, width: 640, height: 480 });
  };

  const clearTimers = (agent) => {
    for (const t of agent.timers) { clearTimeout(t); clearInterval(t); }
    agent.timers = [];
  };

  const connect = (agent) => {
    inFlight++;
    let handshaking = true;
    const done = () => { if (handshaking) { handshaking = false; inFlight--; pump(); } };
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 30000 });
    agent.ws = ws;
    agent.connectedAt = null;
    ws.on('open', () => {
      done();
      counts.opened++;
      agent.connectedAt = Date.now();
      send(agent, helloFor(agent.id));
      agent.timers.push(setInterval(() => send(agent, { type: 'heartbeat' }), heartbeatEveryMs));
      agent.timers.push(setTimeout(() => {
        status(agent);
        agent.timers.push(setInterval(() => status(agent), statusEveryMs));
      }, jitter(0, statusEveryMs)));
    });
    ws.on('message', (data) => {
      counts.received++;
      let msg;
      try { msg = JSON.parse(String(data)); } catch { return; }
      if (msg.type === 'heartbeat') {
        if (answerHeartbeats) send(agent, { type: 'heartbeat' });
      } else if (msg.type === welcomeType) {
        if (!agent.welcomed) counts.welcomed++;
        if (!agent.welcomedAt) counts.everWelcomed++;
        agent.welcomed = true;
        agent.welcomedAt = Date.now();
        counts.lastWelcomeAt = agent.welcomedAt;
      } else if (msg.type === 'offer') {
        counts.offers++;
        send(agent, { type: 'session_end', session: msg.session, reason: 'error' });
      } else if (msg.type === 'error') {
        counts.relayErrors++;
        counts.lastError = msg;
      }
    });
    ws.on('error', (e) => {
      counts.errors++;
      counts.lastError = String(e.message || e);
    });
    ws.on('close', (code) => {
      done();
      clearTimers(agent);
      if (agent.ws !== ws) return;
      agent.ws = null;
      if (agent.welcomed) counts.welcomed--;
      agent.welcomed = false;
      if (stopped) return;
      // A socket that never opened closes with 1006 too: counted the same.
      counts.closed++;
      counts.closeCodes[code] = (counts.closeCodes[code] || 0) + 1;
      agent.closes.push({ at: Date.now(), code });
      if (code === 1013 && reconnect) {
        agent.timers.push(setTimeout(() => {
          if (stopped) return;
          counts.reconnects++;
          queue.push(agent);
          pump();
        }, jitter(1000, 5000)));
      }
    });
  };

  for (let i = 0; i < count; i++) {
    const id = `${prefix}${String(first + i).padStart(5, '0')}`;
    agents.push({ id, ws: null, welcomed: false, welcomedAt: null, connectedAt: null, closes: [], timers: [], seq: 0, bitrate: 800 });
  }
  queue.push(...agents);
  pump();

  return {
    agents,
    counts,
    ids: agents.map((a) => a.id),
    // Resolves once every agent was welcomed, or rejects after `timeoutMs`.
    ready(timeoutMs = 60000) {
      const deadline = Date.now() + timeoutMs;
      return new Promise((resolve, reject) => {
        const check = () => {
          if (counts.welcomed >= count) return resolve(counts);
          if (Date.now() > deadline || stopped) {
            return reject(new Error(`fleet: ${counts.welcomed} of ${count} welcomed after ${timeoutMs} ms `
              + `(opened ${counts.opened}, closed ${counts.closed} ${JSON.stringify(counts.closeCodes)}, `
              + `errors ${counts.errors}, last ${JSON.stringify(counts.lastError)})`));
          }
          setTimeout(check, 20);
        };
        check();
      });
    },
    // Closes every socket (no reconnects after this); resolves when all are closed
    // or after 10 s.
    async stop() {
      stopped = true;
      queue.length = 0;
      const open = [];
      for (const a of agents) {
        clearTimers(a);
        if (!a.ws) continue;
        const ws = a.ws;
        if (ws.readyState === WebSocket.CLOSED) continue;
        open.push(new Promise((resolve) => ws.once('close', resolve)));
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000);
      }
      await Promise.race([Promise.all(open), new Promise((r) => setTimeout(r, 10000))]);
      for (const a of agents) if (a.ws && a.ws.readyState !== WebSocket.CLOSED) a.ws.terminate();
    },
  };
}

// One page: a viewer socket that answers heartbeats, sends `subscribe` (if given)
// once welcomed, and counts what arrives: bytes and messages per type, every camera
// id seen in `camera_update` and in `cameras` (the welcome's list included), and
// the updates per id; and the same again in `page.since`, counted only from the
// `cameras` reply that carries the subscribe's ref (what the subscription costs and
// shows; before it the page has the welcome's default subscription).
// `page.opened` resolves on welcome; `page.subscribed` on that reply.
export function openPage({ port, subscribe, host = '127.0.0.1', heartbeatEveryMs = 1000, keepMessages = 0 }) {
  const page = {
    bytes: 0, messages: 0, byType: {}, bytesByType: {},
    updateIds: new Set(), listIds: new Set(), updatesPerId: new Map(),
    welcome: null, reply: null, replyAt: null, replyBytes: 0, closed: null, errors: [], kept: [],
    since: null,
  };
  const ref = subscribe ? (subscribe.ref ?? `sub-${Math.random().toString(36).slice(2, 10)}`) : null;
  const ws = new WebSocket(`ws://${host}:${port}/ws/viewer`, { perMessageDeflate: false });
  page.ws = ws;
  let timer = null;
  let welcomed, subscribed;
  page.opened = new Promise((resolve, reject) => { welcomed = { resolve, reject }; });
  page.subscribed = new Promise((resolve, reject) => { subscribed = { resolve, reject }; });
  page.opened.catch(() => {});
  page.subscribed.catch(() => {});
  const send = (msg) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg)); };

  ws.on('open', () => { timer = setInterval(() => send({ type: 'heartbeat' }), heartbeatEveryMs); });
  ws.on('message', (data) => {
    const size = data.length;
    page.bytes += size;
    page.messages++;
    let msg;
    try { msg = JSON.parse(String(data)); } catch { page.errors.push('not JSON'); return; }
    const type = String(msg.type);
    page.byType[type] = (page.byType[type] || 0) + 1;
    page.bytesByType[type] = (page.bytesByType[type] || 0) + size;
    if (page.since) {
      page.since.bytes += size;
      page.since.messages++;
      page.since.byType[type] = (page.since.byType[type] || 0) + 1;
    }
    if (keepMessages && page.kept.length < keepMessages) page.kept.push(msg);
    if (type === 'heartbeat') send({ type: 'heartbeat' });
    else if (type === 'welcome') {
      page.welcome = msg;
      for (const c of msg.cameras ?? []) page.listIds.add(c.id);
      welcomed.resolve(msg);
      if (subscribe) send({ ...subscribe, ref });
    } else if (type === 'cameras') {
      for (const c of msg.cameras ?? []) page.listIds.add(c.id);
      if (ref && msg.ref === ref && !page.reply) {
        page.reply = msg;
        page.replyAt = Date.now();
        page.replyBytes = size;
        page.since = { at: page.replyAt, bytes: 0, messages: 0, byType: {}, updateIds: new Set(),
          listIds: new Set(), updatesPerId: new Map() };
        subscribed.resolve(msg);
      } else if (page.since) {
        for (const c of msg.cameras ?? []) page.since.listIds.add(c.id);
      }
    } else if (type === 'camera_update') {
      for (const c of msg.cameras ?? []) {
        page.updateIds.add(c.id);
        page.updatesPerId.set(c.id, (page.updatesPerId.get(c.id) || 0) + 1);
        if (page.since) {
          page.since.updateIds.add(c.id);
          page.since.updatesPerId.set(c.id, (page.since.updatesPerId.get(c.id) || 0) + 1);
        }
      }
    } else if (type === 'error') {
      page.errors.push(msg);
      if (ref && msg.ref === ref) subscribed.reject(new Error(`subscribe refused: ${JSON.stringify(msg)}`));
    }
  });
  ws.on('error', (e) => { page.errors.push(String(e.message || e)); });
  ws.on('close', (code) => {
    clearInterval(timer);
    page.closed = { code, at: Date.now() };
    welcomed.reject(new Error(`page closed (${code}) before welcome`));
    subscribed.reject(new Error(`page closed (${code}) before the subscribe reply`));
  });
  page.send = send;
  page.close = () => new Promise((resolve) => {
    clearInterval(timer);
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const t = setTimeout(() => { ws.terminate(); resolve(); }, 5000);
    ws.once('close', () => { clearTimeout(t); resolve(); });
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000);
  });
  return page;
}
