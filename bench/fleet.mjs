// Fleet benchmark: what one relay spends on N agents (protocol level, from
// tests/integration/lib/fleet.mjs), against the seed's reference, a gorilla/websocket
// echo server (bench/gorilla) holding as many connections. One line per N:
//   fleet N=... relay: welcome cpu=..s wall=..s rss=..MB hold cpu=..% page=..B/s | gorilla: cpu=..s wall=..s rss=..MB
// - welcome: N agents connect at once; the relay's CPU-seconds (utime+stime from
//   /proc/PID/stat) and the wall time until every one was welcomed; rss is the
//   relay's peak (VmHWM) by then.
// - hold: HOLD_S (60) seconds with status every 2 s from each agent (figures change
//   every time) and PAGES (10) pages, each subscribed to 20 cameras of its own by id;
//   the relay's CPU over the hold as % of one core, and the bytes a page received per
//   second over the hold (mean of the pages).
// - gorilla: the same N connections, each sending the agent's hello and waiting for it
//   to come back; the server's CPU-seconds, wall time and VmHWM.
// The agents run in worker processes (one per 2,500), so node is not what limits at
// 10,000. The relay runs with its default heartbeat interval (5 s); the agents answer
// each heartbeat and send their own every 5 s, as sightline-agent does by default.
// Every wait has a deadline (WELCOME_TIMEOUT_S, default 300: a relay that has not
// welcomed them all by then gets "timed out" in its line and no hold).
//   node bench/fleet.mjs [N ...]          (default 100 1000 10000; as bench/run.sh fleet)
//   node bench/fleet.mjs cluster [N]      (default 30000 across RELAYS=3 relays on one broker:
//                                          as bench/run.sh fleet cluster; see clusterCase)
// Env: GORILLA (the echo server binary; none: that half is skipped), HOLD_S, PAGES.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Proc, Stack, freePort, getJson, startMosquitto, startRelay, waitFor } from '../tests/integration/lib/harness.mjs';
import { openPage, startFleet } from '../tests/integration/lib/fleet.mjs';

const PER_WORKER = 2500;
const CLK_TCK = 100;

function cpuSeconds(pid) {
  // Fields after the command name (which is in parentheses): utime is the 14th field.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function peakRssMB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

// N agents over ceil(N / 2,500) worker processes; start() sends them off once every
// worker is up, so that node's own start-up is not timed.
async function spawnWorkers(n) {
  const count = Math.ceil(n / PER_WORKER);
  const workers = [];
  for (let w = 0; w < count; w++) {
    const child = fork(fileURLToPath(import.meta.url), ['--worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const worker = { child, counts: null, exited: false, ready: false };
    child.on('message', (m) => {
      if (m.counts) worker.counts = m.counts;
      if (m.ready) worker.ready = true;
    });
    child.on('exit', () => { worker.exited = true; });
    workers.push(worker);
  }
  await waitFor('fleet workers up', () => workers.every((w) => w.ready), { timeout: 30000 });
  const sum = (key) => workers.reduce((s, w) => s + (w.counts?.[key] ?? 0), 0);
  return {
    sum,
    lastWelcomeAt: () => Math.max(...workers.map((w) => w.counts?.lastWelcomeAt ?? 0)),
    // `ports`: one relay's port per worker in turn (several relays); else options.port.
    start(options, ports = null) {
      let first = 0;
      workers.forEach((worker, w) => {
        const share = Math.min(PER_WORKER, n - first);
        const port = ports ? ports[w % ports.length] : options.port;
        worker.child.send({ cmd: 'start', options: { ...options, port, count: share, first, connectConcurrency: share } });
        first += share;
      });
    },
    closeCodes() {
      const codes = {};
      for (const w of workers) for (const [c, k] of Object.entries(w.counts?.closeCodes ?? {})) codes[c] = (codes[c] || 0) + k;
      return codes;
    },
    async stop() {
      for (const w of workers) if (!w.exited) w.child.send({ cmd: 'stop' });
      await waitFor('fleet workers gone', () => workers.every((w) => w.exited), { timeout: 30000 })
        .catch(() => { for (const w of workers) w.child.kill('SIGKILL'); });
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);

async function connectAll(pid, n, options, timeoutS) {
  const fleet = await spawnWorkers(n);
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  fleet.start(options);
  const deadline = t0 + timeoutS * 1000;
  while (fleet.sum('welcomed') < n && Date.now() < deadline) await sleep(10);
  const welcomed = fleet.sum('welcomed');
  // The last welcome's time as its worker saw it (the workers report every 50 ms).
  const wall = ((welcomed < n ? Date.now() : fleet.lastWelcomeAt()) - t0) / 1000;
  return { fleet, welcomed, wall, cpu: cpuSeconds(pid) - cpu0, rss: peakRssMB(pid) };
}

// A case's figures stand when a later step fails (the old relay, flooded, stops
// welcoming pages or has to be killed on stop): the failure is noted with them.
async function runCase(body) {
  const stack = new Stack();
  const out = {};
  try {
    await body(stack, out);
  } catch (e) {
    out.error = String(e.message || e).split('\n')[0];
  }
  const bad = await stack.stop();
  if (out.error && !('cpu' in out)) {
    console.error(stack.report());
    throw new Error(out.error);
  }
  if (bad.length) out.stopError = `exited badly: ${JSON.stringify(bad)}`;
  return out;
}

function relayCase(n, { holdS, pages: pageCount, timeoutS }) {
  return runCase(async (stack, out) => {
    const relay = await startRelay(stack, { args: ['--heartbeat-interval', '5'] });
    const pid = relay.proc.pid;
    const c = await connectAll(pid, n, { port: relay.port, prefix: 'cam-', statusEveryMs: 2000, heartbeatEveryMs: 5000 },
      timeoutS);
    stack.onCleanup(() => c.fleet.stop());
    Object.assign(out, c, { timedOut: c.welcomed < n });
    if (out.timedOut) return;

    // Page p: 20 ids spread over the fleet, none shared with another page.
    const stride = Math.max(1, Math.floor(n / 20));
    const idsOf = (p) => Array.from({ length: 20 }, (_, k) => `cam-${String((k * stride + p) % n).padStart(5, '0')}`);
    const closed0 = c.fleet.sum('closed');
    const pages = Array.from({ length: pageCount }, (_, p) => openPage({ port: relay.port,
      subscribe: { type: 'subscribe', ids: idsOf(p) } }));
    stack.onCleanup(() => Promise.all(pages.map((page) => page.close())));
    // A relay too busy to welcome them in time is measured all the same.
    await waitFor('every page welcomed', () => pages.every((page) => page.welcome), { timeout: 30000 }).catch(() => {});
    await waitFor('subscribe replies', () => pages.every((page) => page.reply), { timeout: 5000 }).catch(() => {});
    out.pagesWelcomed = pages.filter((page) => page.welcome).length;

    const bytes0 = pages.map((page) => page.bytes);
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    await sleep(holdS * 1000);
    const held = (performance.now() - t0) / 1000;
    out.holdCpu = (cpuSeconds(pid) - cpu0) / held * 100;
    out.pageRate = pages.reduce((sum, page, i) => sum + page.bytes - bytes0[i], 0) / pages.length / held;
    out.holdRss = peakRssMB(pid);
    out.closedAfterWelcome = c.fleet.sum('closed') - closed0;
    out.closeCodes = c.fleet.closeCodes();
    out.replies = pages.filter((page) => page.reply).length;
    out.pageTypes = pages[0].byType;
  });
}

// N agents across RELAYS relays on one broker (docs/fleet.md, "Several relays"):
// each relay takes an equal share, connecting at once; then every relay must list the
// whole fleet (its totals, from the broker), and the fleet is held HOLD_S seconds with
// status every 2 s and PAGES pages, page p on relay p % RELAYS, each subscribed to 20
// cameras spread over the fleet (most of them held by other relays).
function clusterCase(n, { relays: relayCount, holdS, pages: pageCount, timeoutS }) {
  return runCase(async (stack, out) => {
    const broker = await startMosquitto(stack);
    const relays = [];
    for (let r = 0; r < relayCount; r++) {
      relays.push(await startRelay(stack, { name: `relay ${r}`,
        args: ['--heartbeat-interval', '5', '--mqtt', broker.url, '--relay-id', `relay-${r}`] }));
    }
    const pids = relays.map((r) => r.proc.pid);
    const fleet = await spawnWorkers(n);
    stack.onCleanup(() => fleet.stop());
    const cpu0 = pids.map(cpuSeconds);
    const t0 = Date.now();
    fleet.start({ prefix: 'cam-', statusEveryMs: 2000, heartbeatEveryMs: 5000 }, relays.map((r) => r.port));
    while (fleet.sum('welcomed') < n && Date.now() < t0 + timeoutS * 1000) await sleep(10);
    out.welcomed = fleet.sum('welcomed');
    out.wall = ((out.welcomed < n ? Date.now() : fleet.lastWelcomeAt()) - t0) / 1000;
    out.cpu = pids.map((pid, i) => cpuSeconds(pid) - cpu0[i]);
    out.rss = pids.map(peakRssMB);
    if (out.welcomed < n) { out.timedOut = true; return; }
    // Every relay lists the whole fleet, online.
    const totals = async (port) => (await getJson(port, '/api/cameras?limit=1')).totals;
    const listed = async () => (await Promise.all(relays.map((r) => totals(r.port))))
      .every((t) => t && t.cameras === n && t.online === n);
    await waitFor('every relay to list the whole fleet', listed, { timeout: timeoutS * 1000, interval: 200 })
      .catch(() => {});
    out.listedAfter = (Date.now() - t0) / 1000;
    out.lists = await Promise.all(relays.map((r) => totals(r.port)));

    const stride = Math.max(1, Math.floor(n / 20));
    const idsOf = (p) => Array.from({ length: 20 }, (_, k) => `cam-${String((k * stride + p) % n).padStart(5, '0')}`);
    const pages = Array.from({ length: pageCount }, (_, p) => openPage({ port: relays[p % relayCount].port,
      subscribe: { type: 'subscribe', ids: idsOf(p) } }));
    stack.onCleanup(() => Promise.all(pages.map((page) => page.close())));
    await waitFor('every page welcomed', () => pages.every((page) => page.welcome), { timeout: 30000 }).catch(() => {});
    const closed0 = fleet.sum('closed');
    const bytes0 = pages.map((page) => page.bytes);
    const hold0 = [...pids, broker.proc.pid].map(cpuSeconds);
    const h0 = performance.now();
    await sleep(holdS * 1000);
    const held = (performance.now() - h0) / 1000;
    const hold = [...pids, broker.proc.pid].map((pid, i) => (cpuSeconds(pid) - hold0[i]) / held * 100);
    out.holdCpu = hold.slice(0, relayCount);
    out.brokerCpu = hold[relayCount];
    out.pageRate = pages.reduce((sum, page, i) => sum + page.bytes - bytes0[i], 0) / pages.length / held;
    out.holdRss = pids.map(peakRssMB);
    out.brokerRss = peakRssMB(broker.proc.pid);
    out.closedAfterWelcome = fleet.sum('closed') - closed0;
  });
}

function gorillaCase(n, binary, timeoutS) {
  return runCase(async (stack, out) => {
    const port = await freePort();
    const proc = stack.add(new Proc('gorilla', binary, ['--listen', `127.0.0.1:${port}`]));
    await waitFor('gorilla to answer', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok);
    const c = await connectAll(proc.pid, n, { port, prefix: 'cam-', welcomeType: 'hello', answerHeartbeats: false,
      statusEveryMs: 3600000, heartbeatEveryMs: 3600000 }, timeoutS);
    stack.onCleanup(() => c.fleet.stop());
    Object.assign(out, c, { timedOut: c.welcomed < n });
  });
}

async function main() {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  const holdS = Number(process.env.HOLD_S || 60);
  const pages = Number(process.env.PAGES || 10);
  const timeoutS = Number(process.env.WELCOME_TIMEOUT_S || 300);
  const gorilla = process.env.GORILLA;
  const limit = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  console.log(`# open files ${limit.split(/\s+/)[3]}, somaxconn ${fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim()}, `
    + `hold ${holdS} s, ${pages} pages of 20 cameras`);
  if (process.argv[2] === 'cluster') {
    const n = Number(process.argv[3] || 30000);
    const relays = Number(process.env.RELAYS || 3);
    const r = await clusterCase(n, { relays, holdS, pages, timeoutS });
    const each = (xs, f) => xs.map(f).join('/');
    let line = `fleet cluster N=${n} relays=${relays}: `;
    if (r.timedOut) {
      line += `welcome timed out (${r.welcomed} of ${n} after ${f1(r.wall)} s)`;
    } else {
      line += `welcome cpu=${each(r.cpu, f2)}s wall=${f2(r.wall)}s rss=${each(r.rss, f1)}MB `
        + `every relay lists all after ${f1(r.listedAfter)}s`;
      if (r.holdCpu) {
        line += ` hold cpu=${each(r.holdCpu, f1)}% broker=${f1(r.brokerCpu)}% page=${Math.round(r.pageRate)}B/s`;
      }
    }
    console.log(line);
    if (r.lists) console.log(`#   relays' totals: ${JSON.stringify(r.lists)}`);
    if (r.holdRss) {
      console.log(`#   hold: relays' peak rss ${each(r.holdRss, f1)}MB, broker ${f1(r.brokerRss)}MB, `
        + `${r.closedAfterWelcome} agents closed since welcome`);
    }
    if (r.error) console.log(`#   ${r.error}`);
    return;
  }
  for (const n of sizes.length ? sizes : [100, 1000, 10000]) {
    const r = await relayCase(n, { holdS, pages, timeoutS });
    let line = `fleet N=${n} relay: `;
    if (r.error && !r.timedOut && r.holdCpu === undefined) {
      line += `welcome cpu=${f2(r.cpu)}s wall=${f2(r.wall)}s rss=${f1(r.rss)}MB hold failed`;
    } else if (r.timedOut) {
      line += `welcome timed out (${r.welcomed} of ${n} after ${f1(r.wall)} s, cpu=${f1(r.cpu)}s, rss=${f1(r.rss)}MB)`;
    } else {
      line += `welcome cpu=${f2(r.cpu)}s wall=${f2(r.wall)}s rss=${f1(r.rss)}MB `
        + `hold cpu=${f1(r.holdCpu)}% page=${Math.round(r.pageRate)}B/s`;
    }
    if (gorilla) {
      const g = await gorillaCase(n, gorilla, timeoutS);
      line += g.timedOut ? ` | gorilla: timed out (${g.welcomed} of ${n})`
        : ` | gorilla: cpu=${f2(g.cpu)}s wall=${f2(g.wall)}s rss=${f1(g.rss)}MB`;
    }
    console.log(line);
    if (r.error) console.log(`#   relay: ${r.error}`);
    if (r.holdCpu !== undefined) {
      console.log(`#   hold: relay peak rss ${f1(r.holdRss)}MB, ${r.closedAfterWelcome} agents closed since welcome `
        + `${JSON.stringify(r.closeCodes)}, ${r.pagesWelcomed} of ${pages} pages welcomed, ${r.replies} subscribe replies, `
        + `page 0 got ${JSON.stringify(r.pageTypes)}`);
    }
    if (r.stopError) console.log(`#   relay: ${r.stopError}`);
  }
}

// --- worker process: a share of the fleet, driven over IPC --------------------
if (process.argv[2] === '--worker') {
  let fleet = null;
  let timer = null;
  process.on('message', async (m) => {
    if (m.cmd === 'start') {
      fleet = startFleet(m.options);
      timer = setInterval(() => { if (process.connected) process.send({ counts: fleet.counts }); }, 50);
    } else if (m.cmd === 'stop') {
      clearInterval(timer);
      if (fleet) await fleet.stop();
      if (process.connected) {
        process.send({ counts: fleet?.counts, stopped: true });
        process.disconnect();
      }
    }
  });
  // The parent gone (killed, crashed): nothing left to report to.
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
} else {
  await main();
}
