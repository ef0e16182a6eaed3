// Negotiations through one relay: R `watch`es a second (default 1,000) for D seconds
// (default 20) from stand-in pages, each answered at once by a stand-in agent; what
// the relay adds, measured at the page: `watch` sent -> `session` back (the relay
// alone) and `watch` sent -> `answer` back (page -> relay -> agent -> relay -> page,
// the agent answering in no time, so all of it is the relay and loopback). Each
// session is stopped as soon as its answer is in. p50/p99/max per measure, and how
// many of the R×D sessions were answered. Loopback only; bounded in count and time.
//   node bench/negotiations.mjs            (bash bench/run.sh negotiations)
// Env: NEGOTIATIONS_RATE (1000), NEGOTIATIONS_SECONDS (20), NEGOTIATIONS_PAGES (10), SIGHTLINE_RELAY.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Stack, freePort, startRelay, waitFor } from '../tests/integration/lib/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WebSocket = createRequire(path.join(root, 'tests/integration/package.json'))('ws');
const RATE = Number(process.env.NEGOTIATIONS_RATE || 1000);
const SECONDS = Number(process.env.NEGOTIATIONS_SECONDS || 20);
const PAGES = Number(process.env.NEGOTIATIONS_PAGES || 10);
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n';

function open(url, onMessage) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (m.type === 'heartbeat') ws.send('{"type":"heartbeat"}');
    else onMessage(m);
  });
  ws.on('error', () => {});
  return new Promise((resolve, reject) => { ws.once('open', () => resolve(ws)); ws.once('error', reject); });
}

const quantile = (xs, q) => xs.length ? xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] : NaN;
const line = (name, xs) => {
  xs.sort((a, b) => a - b);
  return `${name} p50=${quantile(xs, 0.5).toFixed(2)}ms p99=${quantile(xs, 0.99).toFixed(2)}ms max=${xs.at(-1)?.toFixed(2)}ms`;
};

const stack = new Stack();
await stack.run(async () => {
  const port = await freePort();
  const relay = await startRelay(stack, { port, args: ['--heartbeat-interval', '5', '--max-messages-per-second', '100000',
    '--max-sessions-per-client', '100000', '--max-pending-sessions', '1000', '--max-sessions-per-socket', '10000',
    '--max-sessions-per-camera', '10000'] });
  // The stand-in agent answers every offer at once.
  const agent = await open(`ws://127.0.0.1:${port}/ws/agent`, (m) => {
    if (m.type === 'offer') agent.send(JSON.stringify({ type: 'answer', session: m.session, sdp: 'v=0\r\n' }));
  });
  agent.send(JSON.stringify({ type: 'hello', protocol: 1, agent: 'cam', cameras: [{ id: 'cam', width: 640, height: 480,
    fps: 30, codec: 'H264', source: 'test', encoder: 'x264enc' }] }));
  const pending = new Map();  // ref -> { sent, session }
  const toSession = [], toAnswer = [];
  let answered = 0;
  const pages = [];
  for (let i = 0; i < PAGES; i++) {
    const page = await open(`ws://127.0.0.1:${port}/ws/viewer`, (m) => {
      const now = performance.now();
      if (m.type === 'session') {
        const p = pending.get(m.ref);
        if (!p) return;
        p.session = m.session;
        toSession.push(now - p.sent);
        pending.set(m.session, p);
      } else if (m.type === 'answer') {
        const p = pending.get(m.session);
        if (!p) return;
        toAnswer.push(now - p.sent);
        answered++;
        pending.delete(m.session);
        pending.delete(p.ref);
        page.send(JSON.stringify({ type: 'stop', session: m.session }));
      }
    });
    pages.push(page);
  }
  await waitFor('the camera listed', async () => (await (await fetch(`${relay.url}/api/cameras`)).json()).total === 1);
  const total = RATE * SECONDS;
  let sent = 0;
  const started = performance.now();
  // Paced in 10 ms steps: RATE/100 watches each step, spread over the pages.
  await new Promise((resolve) => {
    const step = setInterval(() => {
      const due = Math.min(total, Math.round((performance.now() - started) / 1000 * RATE));
      while (sent < due) {
        const ref = `r${sent}`;
        pending.set(ref, { sent: performance.now(), ref });
        pages[sent % PAGES].send(JSON.stringify({ type: 'watch', ref, camera: 'cam', sdp: OFFER }));
        sent++;
      }
      if (sent >= total) { clearInterval(step); resolve(); }
    }, 10);
  });
  await waitFor('every answer', () => answered >= total, { timeout: 30000 }).catch(() => {});
  const took = (performance.now() - started) / 1000;
  console.log(`negotiations rate=${RATE}/s for ${SECONDS} s: ${answered} of ${total} answered in ${took.toFixed(1)} s; `
    + `${line('watch->session', toSession)}; ${line('watch->answer', toAnswer)}`);
  for (const ws of [agent, ...pages]) ws.terminate();
});
