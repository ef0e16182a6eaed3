// Where a fan-out worker's CPU goes, by thread (docs/benchmarks.md, "Fan-out (issue 21)"):
// one camera fanned out (bench/fanout.mjs's network), pages added up to each count in
// COUNTS (default 1,8), then each thread's run time over 8 s from
// /proc/PID/task/*/schedstat, summed by thread name. PERF=1 also runs
// `perf record -g` (DWARF=1: DWARF call graphs) on the worker meanwhile, into OUT.
//   bash bench/run.sh fanout-threads          W=1280 H=720 COUNTS=1,4,8 PERF=1 ...
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Stack, waitFor } from '../tests/integration/lib/harness.mjs';
import { tileState } from '../tests/integration/lib/browser.mjs';
import { buildFanoutNet } from '../tests/integration/lib/fanout_net.mjs';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const W = Number(process.env.W || 640), H = Number(process.env.H || 480);
const COUNTS = (process.env.COUNTS || '1,8').split(',').map(Number);
const PERF = process.env.PERF === '1';
const OUT = process.env.OUT || '/tmp';
const children = (pid) => { try { return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; } };
function threads(pid) {
  const m = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const ns = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      m[name] = (m[name] || 0) + ns;
    } catch { // the thread ended
    }
  }
  return m;
}
const stack = new Stack();
await stack.run(async () => {
  const net = await buildFanoutNet(stack, { relayArgs: ['--fanout', 'relay', '--fanout-idle', '2', '--max-sessions-per-client', '1000', '--max-sessions-per-camera', '1000', '--max-pending-sessions', '64'], devices: ['cam'] });
  const relay = await net.startRelay();
  const browser = await net.startBrowser('hub');
  // Bounded: each page waits 30 s at most to play, each count 30 s to be served by the worker.
  await net.startCamera('cam', ['--width', String(W), '--height', String(H), '--bitrate', '2000']);
  const pages = [];
  for (const n of COUNTS) {
    while (pages.length < n) { const p = await browser.open(net.viewUrl('hub', 'cam')); await tileState(p, 'cam', 'live', 30000); pages.push(p); }
    await waitFor('n', async () => (await net.camera('cam'))?.relay_branches === n, { timeout: 30000 });
    await sleep(2000);
    const worker = children(relay.pid)[0];
    const t0 = threads(worker); const w0 = performance.now();
    if (PERF) execFileSync('perf', ['record', '-F', '999', ...(process.env.DWARF ? ['--call-graph', 'dwarf,16384'] : ['-g']), '-o', `${OUT}/perf-${W}-${n}.data`, '-p', String(worker), '--', 'sleep', '8'], { stdio: 'ignore' });
    else await sleep(8000);
    const t1 = threads(worker); const s = (performance.now() - w0) / 1000;
    const rows = Object.keys(t1).map((k) => [k, 100 * ((t1[k] - (t0[k] || 0)) / 1e9) / s]).sort((a, b) => b[1] - a[1]);
    const total = rows.reduce((a, r) => a + r[1], 0);
    console.log(`${W}x${H} ${n} viewers worker ${worker}: total ${total.toFixed(2)}% | ` + rows.filter((r) => r[1] > 0.05).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', '));
  }
  for (const p of pages) await p.closeAll();
});
