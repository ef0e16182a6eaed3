// Live-view benchmark: prints one line of figures per case.
//  - time from opening /view/<id> to the first decoded frame (camera already running)
//  - glass-to-glass latency read from the LTS1 stamp, at 640x480 and 1280x720 @30
//  - agent CPU with 1 and with 4 viewers
// Everything runs on loopback (run.sh puts it in its own network namespace);
// every loop is bounded in count and time.
import { Stack, startAgent, startRelay, waitFor } from '../tests/integration/lib/harness.mjs';
import { startBrowser, tileState } from '../tests/integration/lib/browser.mjs';
import { readStampInPage } from '../tests/integration/lib/stamp.mjs';
import fs from 'node:fs';

const FIRST_FRAME_RUNS = Number(process.env.RUNS || 10);
const LATENCY_FRAMES = 300;
const CPU_WINDOW_MS = 10000;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
};
const med = (xs) => pct(xs, 50);
const r1 = (x) => Math.round(x * 10) / 10;

function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);  // utime + stime
}
async function cpuPercent(pid, ms) {
  const hz = 100;  // USER_HZ on Linux
  const t0 = cpuTicks(pid);
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return (100 * (cpuTicks(pid) - t0) / hz) / ((performance.now() - w0) / 1000);
}

async function firstFrame(stack, browser, relay) {
  await startAgent(stack, relay.port, 'ff', ['--width', '640', '--height', '480']);
  const total = [];
  const steps = { wsOpen: [], welcome: [], offerSent: [], answer: [], iceConnected: [], firstFrame: [] };
  // One untimed run warms the browser's WebRTC stack, as a real user's browser is.
  for (let i = 0; i <= FIRST_FRAME_RUNS; i++) {
    const page = await browser.open(`${relay.url}/view/ff`);
    await tileState(page, 'ff', 'live');
    const t = await page.evaluate(() => window.sightline.timing);
    await page.closeAll();
    if (i === 0) continue;
    total.push(t.firstFrame);
    for (const k of Object.keys(steps)) steps[k].push(t[k]);
  }
  const breakdown = Object.entries(steps).map(([k, v]) => `${k} ${r1(med(v))}`).join(', ');
  console.log(`first frame (navigation -> first decoded frame, 640x480, ${FIRST_FRAME_RUNS} runs): `
    + `median ${r1(med(total))} ms, p90 ${r1(pct(total, 90))} ms, min ${r1(Math.min(...total))} ms; `
    + `median step times from navigation: ${breakdown}`);
}

async function latency(stack, browser, relay, width, height) {
  const id = `lat-${width}`;
  await startAgent(stack, relay.port, id, ['--width', String(width), '--height', String(height), '--fps', '30', '--stamp']);
  const page = await browser.open(`${relay.url}/view/${id}`);
  await tileState(page, id, 'live');
  const samples = await page.evaluate(async ([sel, n, readerSrc]) => {
    const read = new Function(`return (${readerSrc})`)();
    const video = document.querySelector(sel);
    const out = [];
    const deadline = performance.now() + 30000;
    await new Promise((resolve) => {
      const onFrame = (now, meta) => {
        const s = read(sel);
        if (s) {
          // Wall clock at the expected display time (performance.timeOrigin drifts
          // from the wall clock, so take Date.now() at this callback instead).
          const display = Date.now() + (meta.expectedDisplayTime - performance.now());
          let d = (Math.round(display) - s.t) % 4294967296;
          if (d < 0) d += 4294967296;
          if (d > 2147483648) d -= 4294967296;
          out.push(d);
        }
        if (out.length >= n || performance.now() > deadline) resolve();
        else video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    });
    return out;
  }, [`figure.tile[data-camera="${id}"] video`, LATENCY_FRAMES, readStampInPage.toString()]);
  await page.closeAll();
  console.log(`latency ${width}x${height}@30 (stamp -> expected display, ${samples.length} frames): `
    + `p50 ${r1(med(samples))} ms, p95 ${r1(pct(samples, 95))} ms, min ${r1(Math.min(...samples))} ms, max ${r1(Math.max(...samples))} ms`);
}

async function cpu(stack, browser, relay, width, height) {
  const id = `cpu-${width}`;
  const agent = await startAgent(stack, relay.port, id, ['--width', String(width), '--height', String(height)]);
  const pages = [];
  const figures = {};
  for (const viewers of [1, 4]) {
    while (pages.length < viewers) {
      const p = await browser.open(`${relay.url}/view/${id}`);
      await tileState(p, id, 'live');
      pages.push(p);
    }
    await new Promise((r) => setTimeout(r, 2000));  // let joins settle
    figures[viewers] = await cpuPercent(agent.pid, CPU_WINDOW_MS);
  }
  for (const p of pages) await p.closeAll();
  await stack.kill(agent, 'SIGTERM');
  console.log(`agent CPU ${width}x${height}@30 x264 2000 kbit/s (share of one core over ${CPU_WINDOW_MS / 1000} s): `
    + `1 viewer ${r1(figures[1])}%, 4 viewers ${r1(figures[4])}%, ratio ${(figures[4] / figures[1]).toFixed(2)}`);
}

const stack = new Stack();
await stack.run(async () => {
  const relay = await startRelay(stack);
  const browser = await startBrowser(stack);
  const only = process.argv[2];
  if (!only || only === 'first-frame') await firstFrame(stack, browser, relay);
  if (!only || only === 'latency') {
    await latency(stack, browser, relay, 640, 480);
    await latency(stack, browser, relay, 1280, 720);
  }
  if (!only || only === 'cpu') {
    await cpu(stack, browser, relay, 640, 480);
    await cpu(stack, browser, relay, 1280, 720);
  }
});
