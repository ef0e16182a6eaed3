// Long runs: many viewer sessions joining and leaving against one relay and one
// agent, with the process's resident memory (VmRSS) and open file descriptors
// sampled along the way. Both should stay flat. Loopback only; every loop is
// bounded in count and in wall-clock time.
//   node bench/long_run.mjs            # both parts
//   node bench/long_run.mjs relay      # (a) relay churn: a stand-in agent, stand-in viewers
//   node bench/long_run.mjs agent      # (b) agent churn: the real agent, stand-in viewers with a real offer
//   node bench/long_run.mjs sockets    # (c) socket churn: agents and pages connecting and leaving the relay
//                                      #     (a close frame, a bare TCP close, or a bad frame), not in `all`
// Environment:
//   LONG_RUN_SESSIONS=100000       (a) sessions          LONG_RUN_AGENT_SESSIONS=2000  (b) sessions
//   LONG_RUN_VIEWERS=8             (a) viewer sockets     LONG_RUN_PER_VIEWER=4         (a) sessions in flight per socket
//   LONG_RUN_AGENT_VIEWERS=4       (b) viewer sockets, one session in flight each
//   LONG_RUN_SOCKETS=50000         (c) connections        LONG_RUN_SOCKETS_AT_ONCE=50  (c) in flight
//   LONG_RUN_SOCKETS_ROLE=both     (c) agent | viewer | both (alternating)
//   LONG_RUN_MAX_SECONDS=900       wall-clock cap of each part
//   LONG_RUN_AGENT_LOG=FILE        (b) the agent's output (its last 2000 writes) is kept there
//   LONG_RUN_ASAN=1                the build-asan/ binaries, with ASAN_OPTIONS=detect_leaks=1: LeakSanitizer's
//                                  verdict at exit (SIGTERM) is printed
//   SIGHTLINE_RELAY, SIGHTLINE_AGENT  other binaries
// A session is: `watch` (with an offer) -> `session` and `answer` arrive -> `stop`.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Proc, Stack, camera, freePort, getJson, waitFor } from '../tests/integration/lib/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'tests/integration/package.json'));
const WebSocket = require('ws');

const env = process.env;
const int = (name, fallback) => Math.max(1, Math.floor(Number(env[name] || fallback)));
const ASAN = env.LONG_RUN_ASAN === '1';
const buildDir = path.join(root, ASAN ? 'build-asan' : 'build');
const relayBin = env.SIGHTLINE_RELAY || path.join(buildDir, 'relay/sightline-relay');
const agentBin = env.SIGHTLINE_AGENT || path.join(buildDir, 'agent/sightline-agent');
const MAX_MS = int('LONG_RUN_MAX_SECONDS', 900) * 1000;
const ANSWER_TIMEOUT_MS = 15000;
const MAX_ERRORS = 1000;
const procEnv = ASAN ? { ASAN_OPTIONS: env.ASAN_OPTIONS || 'detect_leaks=1',
  UBSAN_OPTIONS: env.UBSAN_OPTIONS || 'print_stacktrace=1' } : {};
const flavour = ASAN ? 'ASan+UBSan build' : 'plain build';
for (const bin of [relayBin, agentBin]) if (!fs.existsSync(bin)) throw new Error(`${bin} is missing (build it first)`);

// VmRSS (kB) and open descriptors of a process.
function sample(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(status.match(/^VmRSS:\s+(\d+)/m)[1]), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}
// What the open descriptors are: {"socket": n, "anon_inode:[eventfd]": n, ...}.
function fdKinds(pid) {
  const kinds = {};
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target;
    try { target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
    const kind = target.replace(/:\[\d+\]$/, '').replace(/^\/.*/, 'file');
    kinds[kind] = (kinds[kind] || 0) + 1;
  }
  return kinds;
}
const mb = (kb) => (kb / 1024).toFixed(1);
const pct = (a, b) => `${b >= a ? '+' : ''}${((b - a) / a * 100).toFixed(1)}%`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A relay on a free loopback port, up once it answers /healthz: { relay, port }.
async function startRelay(stack) {
  const port = await freePort();
  // The relay's per-socket message budget (50/s) would otherwise cap one agent at
  // 50 answers a second: that limit is not what this run measures.
  const relay = stack.add(new Proc('relay', relayBin, ['--insecure-dev', '--listen', `127.0.0.1:${port}`,
    '--web-root', path.join(root, 'web'), '--heartbeat-interval', '5', '--max-sessions-per-client', '100000',
    '--max-pending-sessions', '64', '--max-messages-per-second', '100000'], procEnv));
  await waitFor('relay /healthz', async () => (await getJson(port, '/healthz')).status === 'ok');
  return { relay, port };
}

// A socket speaking the protocol: answers heartbeats, hands other messages to `on`.
function openSocket(url, on) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('error', reject);
    ws.on('open', () => resolve(ws));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.type === 'heartbeat') ws.send('{"type":"heartbeat"}');
      else on(m, ws);
    });
  });
}

// A stand-in viewer: one socket, any number of sessions in flight.
class Viewer {
  constructor(port, stats) { this.port = port; this.stats = stats; this.byRef = new Map(); this.bySession = new Map(); this.n = 0; }

  async open() {
    let welcomed;
    const welcome = new Promise((r) => { welcomed = r; });
    this.ws = await openSocket(`ws://127.0.0.1:${this.port}/ws/viewer`, (m) => this.on(m, welcomed));
    this.ws.on('close', (code) => {
      this.closed = code;
      for (const w of this.byRef.values()) w.fail(new Error(`viewer socket closed (${code})`));
    });
    await welcome;
  }

  on(m, welcomed) {
    if (m.type === 'welcome') return welcomed();
    if (m.type === 'session') {
      const w = this.byRef.get(m.ref);
      if (w) { w.session = m.session; this.bySession.set(m.session, w); }
    } else if (m.type === 'answer') {
      this.bySession.get(m.session)?.done();
    } else if (m.type === 'error') {
      this.stats.errors[m.code] = (this.stats.errors[m.code] || 0) + 1;
      (this.byRef.get(m.ref) || this.bySession.get(m.session))?.fail(Object.assign(new Error(m.message), { code: m.code }));
    } else if (m.type === 'session_end') {
      this.stats.ends[m.reason] = (this.stats.ends[m.reason] || 0) + 1;
      this.bySession.get(m.session)?.fail(new Error(`session_end ${m.reason}`));
    }
  }

  // One session: watch, wait for its answer, stop at once.
  async session(cameraId, sdp) {
    const ref = `r${++this.n}`;
    const w = { };
    const answered = new Promise((resolve, reject) => {
      const timer = setTimeout(() => w.fail(new Error('no answer in time')), ANSWER_TIMEOUT_MS);
      const forget = () => { clearTimeout(timer); this.byRef.delete(ref); if (w.session) this.bySession.delete(w.session); };
      w.done = () => { forget(); resolve(); };
      w.fail = (e) => { forget(); reject(e); };
    });
    this.byRef.set(ref, w);
    this.ws.send(JSON.stringify({ type: 'watch', ref, camera: cameraId, sdp }));
    try {
      await answered;
    } finally {
      if (w.session && this.closed === undefined) this.ws.send(JSON.stringify({ type: 'stop', session: w.session }));
    }
  }

  close() { this.ws?.close(); }
}

// Runs `total` sessions over `viewers` sockets with `lanes` in flight on each,
// sampling `pid` every `every` sessions. Returns the samples and the rate.
async function churn({ what, port, cameraId, sdp, total, viewers, lanes, every, pid }) {
  const stats = { errors: {}, ends: {} };
  const sockets = [];
  for (let i = 0; i < viewers; i++) {
    const v = new Viewer(port, stats);
    await v.open();
    sockets.push(v);
  }
  const samples = [{ at: 0, ...sample(pid) }];
  console.log(`${what}: before, RSS ${mb(samples[0].rss)} MB, fds ${samples[0].fds}`);
  const started = performance.now();
  const deadline = Date.now() + MAX_MS;
  let begun = 0, done = 0, failed = 0, next = every;
  const lane = async (v) => {
    while (begun < total && Date.now() < deadline && failed < MAX_ERRORS) {
      begun++;
      try {
        await v.session(cameraId, sdp);
      } catch (e) {
        begun--;  // not done: tried again (too_many_pending and the like), within MAX_ERRORS
        failed++;
        if (v.closed !== undefined) throw e;
        await sleep(10);
        continue;
      }
      done++;
      if (done >= next) {
        next += every;
        const s = { at: done, ...sample(pid) };
        samples.push(s);
        const secs = (performance.now() - started) / 1000;
        console.log(`${what}: ${done} sessions, ${secs.toFixed(1)} s, RSS ${mb(s.rss)} MB, fds ${s.fds}`);
      }
    }
  };
  await Promise.all(sockets.flatMap((v) => Array.from({ length: lanes }, () => lane(v))));
  const secs = (performance.now() - started) / 1000;
  if (done < total) console.log(`${what}: STOPPED EARLY at ${done} of ${total} sessions (${failed} failures, `
    + `${secs.toFixed(0)} s; errors ${JSON.stringify(stats.errors)})`);
  return { sockets, samples, done, failed, secs, stats };
}

// Stops `proc` with SIGTERM; returns its exit and LeakSanitizer's verdict.
async function stopAndJudge(proc) {
  const exit = await proc.stop('SIGTERM');
  const out = proc.output();
  const summary = out.match(/SUMMARY: AddressSanitizer: \d+ byte\(s\) leaked in \d+ allocation\(s\)\./);
  const other = /ERROR: AddressSanitizer|runtime error:/.test(out);
  let verdict;
  if (!ASAN) verdict = 'not checked (plain build)';
  else if (summary) verdict = `LEAKS: ${summary[0].replace('SUMMARY: AddressSanitizer: ', '')}`;
  else if (/ERROR: LeakSanitizer/.test(out)) verdict = 'LeakSanitizer error (see log)';
  else verdict = `no leaks reported`;
  if (other) verdict += '; a sanitizer error was reported (see log)';
  verdict += `, exit ${JSON.stringify(exit.code ?? exit.signal)}`;
  return { exit, verdict, out };
}

function summarize(what, r, drained, lsan, warm) {
  const first = r.samples.find((s) => s.at >= warm) || r.samples[0];
  const last = r.samples.at(-1);
  console.log(`${what} (${flavour}): ${r.done} sessions in ${r.secs.toFixed(1)} s = ${(r.done / r.secs).toFixed(1)} sessions/s; `
    + `RSS ${mb(first.rss)} MB at ${first.at} -> ${mb(last.rss)} MB at ${last.at} (${pct(first.rss, last.rss)}); `
    + `fds ${first.fds} -> ${last.fds}; after the sessions ended: RSS ${mb(drained.rss)} MB, fds ${drained.fds}; `
    + `retried ${r.failed}, errors ${JSON.stringify(r.stats.errors)}; LSan: ${lsan}`);
}

// (a) The relay, with a stand-in agent answering every offer at once.
async function relayChurn() {
  const total = int('LONG_RUN_SESSIONS', 100000);
  const every = Math.min(10000, Math.max(1, Math.floor(total / 10)));
  const stack = new Stack();
  await stack.run(async () => {
    const { relay, port } = await startRelay(stack);
    const agentStats = { offers: 0, ends: 0 };
    let welcomed;
    const welcome = new Promise((r) => { welcomed = r; });
    const agent = await openSocket(`ws://127.0.0.1:${port}/ws/agent`, (m, ws) => {
      if (m.type === 'welcome') welcomed();
      else if (m.type === 'offer') {
        agentStats.offers++;
        ws.send(JSON.stringify({ type: 'answer', session: m.session, sdp: 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\n' }));
      } else if (m.type === 'session_end') agentStats.ends++;
    });
    agent.send(JSON.stringify({ type: 'hello', protocol: 1, agent: 'standin', cameras: [{ id: 'cam', width: 320,
      height: 240, fps: 15, codec: 'H264', source: 'test', encoder: 'stand-in' }] }));
    await welcome;
    await waitFor('camera cam connected', async () => (await camera(port, 'cam'))?.connected);

    const r = await churn({ what: 'relay churn', port, cameraId: 'cam', sdp: 'v=0\r\n', total,
      viewers: int('LONG_RUN_VIEWERS', 8), lanes: int('LONG_RUN_PER_VIEWER', 4), every, pid: relay.pid });
    await waitFor('the relay to hold 0 sessions', async () => (await getJson(port, '/healthz')).sessions === 0);
    await waitFor('the stand-in agent to be told of every end', async () => agentStats.ends >= agentStats.offers);
    const drained = sample(relay.pid);
    console.log(`relay churn: sessions ended, /healthz sessions 0, stand-in agent: ${agentStats.offers} offers, `
      + `${agentStats.ends} session_end; RSS ${mb(drained.rss)} MB, fds ${drained.fds} ${JSON.stringify(fdKinds(relay.pid))}`);
    for (const v of r.sockets) v.close();
    agent.close();
    const { verdict } = await stopAndJudge(relay);
    summarize('relay churn', r, drained, verdict, every);
    if (r.done < total) throw new Error('relay churn stopped early');
  });
}

// A real offer from Chromium (recvonly video), made once.
async function chromiumOffer() {
  if (env.LONG_RUN_OFFER) return fs.readFileSync(env.LONG_RUN_OFFER, 'utf8');
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'] });
  try {
    const page = await browser.newPage();
    return await page.evaluate(async () => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      const sdp = pc.localDescription.sdp;
      pc.close();
      return sdp;
    });
  } finally {
    await browser.close();
  }
}

// (b) The real agent: each offer builds a webrtcbin branch, each stop tears it down.
async function agentChurn() {
  const total = int('LONG_RUN_AGENT_SESSIONS', 2000);
  const every = Math.min(200, Math.max(1, Math.floor(total / 10)));
  const sdp = await chromiumOffer();
  const stack = new Stack();
  await stack.run(async () => {
    const { relay, port } = await startRelay(stack);
    const agent = stack.add(new Proc('agent', agentBin, ['--id', 'cam', '--relay', `ws://127.0.0.1:${port}`,
      '--ice-address', '127.0.0.1', '--width', '320', '--height', '240'], procEnv));
    await waitFor('camera cam connected', async () => (await camera(port, 'cam'))?.connected, { timeout: 30000 });
    const r = await churn({ what: 'agent churn', port, cameraId: 'cam', sdp, total,
      viewers: int('LONG_RUN_AGENT_VIEWERS', 4), lanes: 1, every, pid: agent.pid });
    await waitFor('the relay to hold 0 sessions', async () => (await getJson(port, '/healthz')).sessions === 0);
    // The agent reports its branch count at once when it changes.
    await waitFor('the agent to hold 0 branches', async () => (await camera(port, 'cam'))?.branches === 0,
      { timeout: 60000 });
    let drained = sample(agent.pid);
    console.log(`agent churn: sessions ended, relay 0 sessions, agent 0 branches; RSS ${mb(drained.rss)} MB, fds ${drained.fds}`);
    // Whatever the agent frees late (a thread, a timer) has had 10 s more.
    await sleep(10000);
    drained = sample(agent.pid);
    console.log(`agent churn: 10 s later, RSS ${mb(drained.rss)} MB, fds ${drained.fds} ${JSON.stringify(fdKinds(agent.pid))}`);
    for (const v of r.sockets) v.close();
    const { verdict, out } = await stopAndJudge(agent);
    if (env.LONG_RUN_AGENT_LOG) fs.writeFileSync(env.LONG_RUN_AGENT_LOG, out);
    summarize('agent churn', r, drained, verdict, every);
    if (r.done < total) throw new Error('agent churn stopped early');
  });
}

// (c) The relay's sockets: each connects, is welcomed (an agent says hello with one
// of 1,000 cameras), and leaves one of three ways in turn: a close frame, the TCP
// connection dropped with no close, or a frame the relay refuses (unmasked).
async function socketChurn() {
  const total = int('LONG_RUN_SOCKETS', 50000);
  const atOnce = int('LONG_RUN_SOCKETS_AT_ONCE', 50);
  const ROLES = env.LONG_RUN_SOCKETS_ROLE || 'both';
  const every = Math.min(5000, Math.max(1, Math.floor(total / 10)));
  const stack = new Stack();
  await stack.run(async () => {
    const { relay, port } = await startRelay(stack);
    const samples = [{ at: 0, ...sample(relay.pid) }];
    console.log(`socket churn: before, RSS ${mb(samples[0].rss)} MB, fds ${samples[0].fds}`);
    const started = performance.now();
    const deadline = Date.now() + MAX_MS;
    let begun = 0, done = 0, failed = 0, next = every;
    const ways = { close: 0, drop: 0, bad: 0 };
    const one = (n) => new Promise((resolve, reject) => {
      const agent = ROLES === 'agent' || (ROLES !== 'viewer' && n % 2 === 0);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/${agent ? 'agent' : 'viewer'}`, { perMessageDeflate: false });
      const timer = setTimeout(() => { ws.terminate(); reject(new Error('not welcomed in time')); }, ANSWER_TIMEOUT_MS);
      ws.on('error', (e) => { clearTimeout(timer); reject(e); });
      ws.on('close', () => { clearTimeout(timer); resolve(); });
      ws.on('open', () => {
        if (agent) ws.send(JSON.stringify({ type: 'hello', protocol: 1, agent: `churn-${n % 1000}`, cameras: [{ id: `churn-${n % 1000}`,
          width: 320, height: 240, fps: 15, codec: 'H264', source: 'test', encoder: 'stand-in' }] }));
      });
      ws.on('message', (data) => {
        if (JSON.parse(String(data)).type !== 'welcome') return;
        const way = ['close', 'drop', 'bad'][Math.floor(n / 2) % 3];
        ways[way]++;
        if (way === 'close') ws.close(1000, 'done');
        else if (way === 'drop') ws.terminate();
        else ws._socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));  // unmasked: the relay closes with 1002
      });
    });
    const lane = async () => {
      while (begun < total && Date.now() < deadline && failed < MAX_ERRORS) {
        const n = begun++;
        try { await one(n); } catch { failed++; continue; }
        done++;
        if (done >= next) {
          next += every;
          const s = { at: done, ...sample(relay.pid) };
          samples.push(s);
          console.log(`socket churn: ${done} sockets, ${((performance.now() - started) / 1000).toFixed(1)} s, `
            + `RSS ${mb(s.rss)} MB, fds ${s.fds}`);
        }
      }
    };
    await Promise.all(Array.from({ length: atOnce }, lane));
    const secs = (performance.now() - started) / 1000;
    await waitFor('the relay to hold no agent and no page', async () => {
      const h = await getJson(port, '/healthz');
      return h.agents === 0 && h.viewers === 0;
    }, { timeout: 30000 });
    const drained = sample(relay.pid);
    const { verdict } = await stopAndJudge(relay);
    const first = samples.find((s) => s.at >= every) || samples[0];
    const last = samples.at(-1);
    console.log(`socket churn (${flavour}): ${done} sockets in ${secs.toFixed(1)} s = ${(done / secs).toFixed(0)}/s `
      + `(${JSON.stringify(ways)}, ${failed} failed); RSS ${mb(first.rss)} MB at ${first.at} -> ${mb(last.rss)} MB at `
      + `${last.at} (${pct(first.rss, last.rss)}); fds ${first.fds} -> ${last.fds}; after: RSS ${mb(drained.rss)} MB, `
      + `fds ${drained.fds}; LSan: ${verdict}`);
    if (done < total) throw new Error('socket churn stopped early');
  });
}

const part = process.argv[2] || 'all';
if (!['all', 'relay', 'agent', 'sockets'].includes(part)) throw new Error(`unknown part ${part}: relay | agent | sockets`);
console.log(`long run, ${flavour}: relay ${relayBin}, agent ${agentBin}`);
if (part === 'sockets') await socketChurn();
else {
  if (part !== 'agent') await relayChurn();
  if (part !== 'relay') await agentChurn();
}
