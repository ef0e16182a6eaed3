// One relay under a fleet's load: 2,000 protocol-level agents (hello, heartbeat
// answers, status every 2 s with changing figures) and 5 pages, each subscribed to
// 20 cameras by id. For 30 s no agent is dropped, /healthz answers within 1 s, and a
// page gets updates for its 20 cameras only, at most about one per camera per second
// (docs/protocol.md, `subscribe` / `camera_update`), not the fleet's whole list.
//
// Needs open files: 2,000 sockets in node and as many in the relay, which inherits
// node's limit (`ulimit -n` 4096 or more before `meson test` / netns-run.sh; node
// cannot raise its own soft limit). Checked first, with that message.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import test from 'node:test';
import { Worker } from 'node:worker_threads';
import { Stack, startRelay, waitFor } from './lib/harness.mjs';
import { openPage, startFleet } from './lib/fleet.mjs';

const AGENTS = 2000;
const PAGES = 5;
const PER_PAGE = 20;
const HOLD_S = 30;
const FDS_NEEDED = AGENTS + 512;

function openFilesLimit() {
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line.split(/\s+/)[3]);
}

// Times GET `url` every 500 ms for `ms`, in a worker thread; resolves to [{ ms, ok }].
function probeHealthz(url, ms) {
  const worker = new Worker(`
    const { parentPort, workerData: { url, ms } } = require('node:worker_threads');
    (async () => {
      const end = Date.now() + ms;
      const probes = [];
      while (Date.now() < end) {
        const t0 = performance.now();
        let ok = false;
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
          ok = res.ok && (await res.json()).status === 'ok';
        } catch { ok = false; }
        const took = performance.now() - t0;
        probes.push({ ms: took, ok });
        await new Promise((r) => setTimeout(r, Math.max(0, 500 - took)));
      }
      parentPort.postMessage(probes);
    })();`, { eval: true, workerData: { url, ms } });
  return new Promise((resolve, reject) => {
    worker.once('message', (probes) => { worker.terminate(); resolve(probes); });
    worker.once('error', reject);
  });
}

// Page p's cameras: 20 ids spread over the fleet, none shared with another page.
const idsOfPage = (fleet, p) => Array.from({ length: PER_PAGE }, (_, k) => fleet.ids[k * 100 + p * PER_PAGE + 3]);

test('fleet of 2000 agents stays connected', { timeout: 280000 }, async () => {
  const fds = openFilesLimit();
  assert.ok(fds >= FDS_NEEDED, `open files limit is ${fds}: run with ulimit -n ${FDS_NEEDED} or more`);

  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack, { args: ['--heartbeat-interval', '2'] });
    const fleet = startFleet({ port: relay.port, count: AGENTS, prefix: 'cam-', statusEveryMs: 2000,
      connectConcurrency: 200 });
    stack.onCleanup(() => fleet.stop());
    const connecting = Date.now();
    await fleet.ready(90000);
    console.log(`fleet: ${AGENTS} agents welcomed in ${((Date.now() - connecting) / 1000).toFixed(1)} s`);

    const pages = Array.from({ length: PAGES }, (_, p) => openPage({ port: relay.port,
      subscribe: { type: 'subscribe', ids: idsOfPage(fleet, p) } }));
    stack.onCleanup(() => Promise.all(pages.map((page) => page.close())));
    // A relay too busy to welcome a page, or one that does not understand `subscribe`
    // (it never replies): the hold runs anyway, and both are asserted on below.
    await waitFor('every page welcomed', () => pages.every((page) => page.welcome), { timeout: 15000 })
      .catch(() => {});
    await waitFor('every page\'s subscribe reply', () => pages.every((page) => page.reply), { timeout: 10000 })
      .catch(() => {});

    // The hold: /healthz every 500 ms, each answer timed (a probe gives up after 5 s),
    // from a worker thread of its own, so that the fleet's work on this thread does
    // not delay the timing.
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
    const started = Date.now();
    const probes = await probeHealthz(`${relay.url}/healthz`, HOLD_S * 1000);
    const heldS = (Date.now() - started) / 1000;
    loopDelay.disable();

    const problems = [];
    const maxProbe = Math.max(...probes.map((p) => p.ms));
    const failed = probes.filter((p) => !p.ok).length;
    console.log(`fleet: ${fleet.counts.everWelcomed} welcomed, ${fleet.counts.closed} closed `
      + `${JSON.stringify(fleet.counts.closeCodes)}; healthz ${probes.length} probes, max ${maxProbe.toFixed(1)} ms, `
      + `${failed} failed; node event loop delay max ${(loopDelay.max / 1e6).toFixed(1)} ms`);
    if (fleet.counts.closed > 0) {
      problems.push(`${fleet.counts.closed} agents were closed (codes ${JSON.stringify(fleet.counts.closeCodes)}), `
        + `${fleet.counts.welcomed} of ${AGENTS} still welcomed`);
    }
    if (maxProbe > 1000 || failed) problems.push(`/healthz: slowest answer ${maxProbe.toFixed(0)} ms, ${failed} of ${probes.length} failed`);

    for (const [p, page] of pages.entries()) {
      const mine = new Set(idsOfPage(fleet, p));
      const name = `page ${p}`;
      if (page.closed) problems.push(`${name} was closed (${page.closed.code})`);
      if (!page.welcome) {
        problems.push(`${name} was never welcomed`);
        continue;
      }
      if (!page.reply) {
        problems.push(`${name}: no \`cameras\` reply to its subscribe (errors: ${JSON.stringify(page.errors.slice(0, 2))}); `
          + `got ${page.bytes} bytes, ${JSON.stringify(page.byType)}`);
        continue;
      }
      const replied = page.reply.cameras.map((c) => c.id).sort();
      if (JSON.stringify(replied) !== JSON.stringify([...mine].sort())) {
        problems.push(`${name}: the reply lists ${replied.length} cameras, not its ${PER_PAGE}`);
      }
      const foreign = [...page.since.updateIds, ...page.since.listIds].filter((id) => !mine.has(id));
      if (foreign.length) problems.push(`${name}: sent ${foreign.length} cameras it did not subscribe to, e.g. ${foreign.slice(0, 3)}`);

      // Every figure changes with every status (every 2 s), so each camera has an
      // update at least every few seconds; coalesced to at most one a second.
      const counts = [...mine].map((id) => page.since.updatesPerId.get(id) || 0);
      const fewest = Math.min(...counts);
      const most = Math.max(...counts);
      if (fewest < 5) problems.push(`${name}: a camera had ${fewest} updates in ${heldS.toFixed(0)} s (figures change every 2 s)`);
      if (most > heldS + 2) problems.push(`${name}: a camera had ${most} updates in ${heldS.toFixed(0)} s (at most 1/s)`);

      // The byte bound, from the time of the reply to now (T s, rounded up by 1 s
      // for the ends of the window):
      //   20 cameras x 1 update/s x (one entry + a camera_update envelope) x T
      //   + totals at most 1/s (its message as big as the reply's totals) x T
      //   + the relay's heartbeats (every 2 s) x T/2
      //   all x 1.5.
      // One entry's size: the reply's bytes shared out over its 20 entries (a little
      // more than an entry: the reply's envelope and totals are shared in too).
      const T = (Date.now() - page.replyAt) / 1000 + 1;
      const entry = Math.ceil(page.replyBytes / page.reply.cameras.length);
      const updateEnvelope = '{"type":"camera_update","cameras":[]}'.length;
      const totals = JSON.stringify({ type: 'totals', totals: page.reply.totals ?? {} }).length + 16;
      const heartbeat = '{"type":"heartbeat"}'.length;
      const bound = Math.ceil(1.5 * (PER_PAGE * T * (entry + updateEnvelope) + T * totals + (T / 2 + 1) * heartbeat));
      console.log(`${name}: ${page.since.bytes} bytes in ${T.toFixed(1)} s (bound ${bound}, entry ${entry} B), `
        + `updates per camera ${fewest}-${most}, ${JSON.stringify(page.since.byType)}`);
      if (page.since.bytes > bound) problems.push(`${name}: ${page.since.bytes} bytes in ${T.toFixed(1)} s, over the bound of ${bound}`);
    }
    // Printed as well: a relay still busy when it is stopped is killed, and that
    // failure would be the only one reported.
    for (const problem of problems) console.log(`problem: ${problem}`);
    assert.deepEqual(problems, []);
  });
});
