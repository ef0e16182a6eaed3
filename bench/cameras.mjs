// Cameras benchmark: what the agent costs per camera, and three cameras on one
// agent against three agents with one camera each (same sizes, same encoder),
// side by side in one run. Each camera has one viewer (a headless Chromium
// page), so capture, encode, packetising and one encrypted send all run.
// Prints CPU (% of one core, from every thread's schedstat over a window) and
// RSS per setup. Loopback only (run.sh puts it in its own namespace); every
// wait is bounded.
//   node bench/cameras.mjs [WIDTHxHEIGHT]      (default 1280x720, 30 fps, x264enc)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stack, camera, startAgent, startRelay, waitFor } from '../tests/integration/lib/harness.mjs';
import { startBrowser, tileState } from '../tests/integration/lib/browser.mjs';
import { cpuPercent } from './cpu.mjs';

const [W, H] = (process.argv[2] || '1280x720').split('x').map(Number);
const WINDOW_MS = Number(process.env.WINDOW_MS || 15000);
const ROUNDS = Number(process.env.ROUNDS || 2);
const PATTERNS = ['smpte', 'ball', 'snow'];
const r1 = (x) => Math.round(x * 10) / 10;
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

async function measure(setup) {
  const stack = new Stack();
  let out;
  await stack.run(async () => {
    const relay = await startRelay(stack);
    const size = ['--width', String(W), '--height', String(H), '--fps', '30', '--encoder', 'x264enc'];
    const procs = [];
    const ids = [];
    if (setup === 'one agent') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-bench-'));
      stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
      const conf = path.join(dir, 'agent.conf');
      fs.writeFileSync(conf, PATTERNS.map((p) => `[camera ${p}]\npattern = ${p}\n`).join('\n'));
      procs.push(await startAgent(stack, relay.port, 'dev', ['--config', conf, ...size], { wait: false }));
      ids.push(...PATTERNS.map((p) => `dev/${p}`));
    } else {
      for (const p of PATTERNS) {
        procs.push(await startAgent(stack, relay.port, `dev-${p}`, ['--pattern', p, ...size], { wait: false }));
        ids.push(`dev-${p}`);
      }
    }
    for (const id of ids) await waitFor(`${id} connected`, async () => (await camera(relay.port, id))?.connected);
    const browser = await startBrowser(stack);
    for (const id of ids) {
      const page = await browser.open(`${relay.url}/view/${encodeURIComponent(id)}`);
      await tileState(page, id, 'live', 30000);
    }
    await new Promise((r) => setTimeout(r, 3000));  // past the joins' keyframes
    const shares = await Promise.all(procs.map((p) => cpuPercent(p.child.pid, WINDOW_MS)));
    out = {
      cpu: shares.reduce((a, s) => a + s.total, 0),
      encode: shares.reduce((a, s) => a + s.encode, 0),
      rss: procs.reduce((a, p) => a + rssMb(p.child.pid), 0),
      threads: procs.reduce((a, p) => a + fs.readdirSync(`/proc/${p.child.pid}/task`).length, 0),
    };
  });
  return out;
}

console.log(`cameras: 3 test cameras at ${W}x${H}@30, x264enc, one viewer each; CPU over ${WINDOW_MS / 1000} s, ` +
  `${ROUNDS} rounds alternating`);
const results = { 'one agent': [], 'three agents': [] };
for (let round = 0; round < ROUNDS; ++round)
  for (const setup of round % 2 ? ['three agents', 'one agent'] : ['one agent', 'three agents'])
    results[setup].push(await measure(setup));
for (const [setup, runs] of Object.entries(results)) {
  const avg = (k) => r1(runs.reduce((a, r) => a + r[k], 0) / runs.length);
  console.log(`  ${setup.padEnd(13)} CPU ${avg('cpu')}% of a core (capture+encode ${avg('encode')}%), ` +
    `RSS ${avg('rss')} MB, ${avg('threads')} threads; per camera ${r1(avg('cpu') / 3)}%, ` +
    `runs: ${runs.map((r) => r1(r.cpu)).join(' / ')}`);
}
