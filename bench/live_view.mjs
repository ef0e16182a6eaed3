// Live-view benchmark: prints one line of figures per case.
//  - time from opening /view/<id> to the first decoded frame (camera already running)
//  - glass-to-glass latency read from the LTS1 stamp, at 640x480 and 1280x720 @30
//  - agent CPU with 1 and with 4 viewers
//  - (viewer-cost, only when asked) what one more viewer costs, in rounds, side by side
// Everything runs on loopback (run.sh puts it in its own network namespace);
// every loop is bounded in count and time.
import { Stack, paths, startAgent, startRelay, waitFor } from '../tests/integration/lib/harness.mjs';
import { startBrowser, tileState } from '../tests/integration/lib/browser.mjs';
import { readStampInPage } from '../tests/integration/lib/stamp.mjs';
import { cpuPercent } from './cpu.mjs';

const FIRST_FRAME_RUNS = Number(process.env.RUNS || 10);
const LATENCY_FRAMES = 300;
const LATENCY_RUNS = Number(process.env.LATENCY_RUNS || 3);
const CPU_WINDOW_MS = 10000;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
};
const med = (xs) => pct(xs, 50);
const r1 = (x) => Math.round(x * 10) / 10;

// Waits for the page's own record of its first frame without touching the page
// before then: playwright's selector waits (tileState) evaluate its ~10 ms injected
// script on the page's main thread, and a Chromium trace of a new tab showed it
// landing between the answer and the first frame, the very window measured.
async function untouchedTiming(page) {
  const deadline = Date.now() + 15000;
  await new Promise((r) => setTimeout(r, 1000));
  for (;;) {
    const t = await page.evaluate(() => window.sightline?.timing ?? null);
    if (t?.firstFrame !== undefined) return t;
    if (Date.now() > deadline) throw new Error(`no first frame on ${page.url()} within 15 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
async function selectorTiming(page, id) {
  await tileState(page, id, 'live');
  return page.evaluate(() => window.sightline.timing);
}

// Four ways of opening a camera: a new tab in a fresh browser context (a first
// visit: nothing cached, no connection to the relay yet, a new renderer process);
// a new tab of the browser's own profile, where the grid was seen before (what a
// user's ctrl-click or typed address in a new tab is: cache and connections shared);
// a page load in the tab that shows the grid (the address typed, or the page
// reloaded); and a click on the camera in the grid, which shows it in place on the
// tile's running session (measured separately, below).
async function firstFrame(stack, browser, relay) {
  // What is measured, opened in turn, run by run, so all see the same machine:
  // our camera, waited for without touching the page; with REFERENCE_AGENT=<another
  // sightline-agent binary>, a second camera from it; with COMPARE_WAIT=1, our
  // camera again, waited for with selector waits (how this bench measured until the
  // fifth pass, docs/benchmarks.md).
  // With REFERENCE_WEB=<another web/ directory>, a second relay serving it, with a
  // camera from our agent: the page measured against the page.
  const variants = [{ id: 'ff', label: '', wait: untouchedTiming, relay }];
  const agents = [['ff', paths.agent, relay]];
  if (process.env.REFERENCE_AGENT) {
    agents.push(['ff-ref', process.env.REFERENCE_AGENT, relay]);
    variants.push({ id: 'ff-ref', label: `, reference agent ${process.env.REFERENCE_AGENT}`, wait: untouchedTiming, relay });
  }
  if (process.env.REFERENCE_WEB) {
    const other = await startRelay(stack, { name: 'relay (reference web)', args: ['--web-root', process.env.REFERENCE_WEB] });
    agents.push(['ff-web', paths.agent, other]);
    variants.push({ id: 'ff-web', label: `, reference web ${process.env.REFERENCE_WEB}`, wait: untouchedTiming, relay: other });
  }
  if (process.env.COMPARE_WAIT) {
    variants.push({ id: 'ff', label: ', waited for with selector waits', wait: (page) => selectorTiming(page, 'ff'), relay });
  }
  for (const [id, binary, on] of agents) {
    await startAgent(stack, on.port, id, ['--width', '640', '--height', '480'], { binary });
  }
  const grid = await browser.open(`${relay.url}/`);
  // The profile has seen the grid (its scripts cached), as a user's browser has.
  for (const { id, relay: on } of variants) {
    const profileGrid = await browser.openTab(`${on.url}/`);
    await tileState(profileGrid, id, 'live');
    await profileGrid.closeAll();
  }
  const cases = {
    'new tab in a fresh profile (first visit)': async (id, url) => {
      const page = await browser.open(`${url}/view/${id}`);
      return { page, close: () => page.closeAll() };
    },
    'new tab next to the grid (a user\'s browser: same profile, cache and connections)': async (id, url) => {
      const page = await browser.openTab(`${url}/view/${id}`);
      return { page, close: () => page.closeAll() };
    },
    'page load in the grid\'s tab': async (id, url) => {
      await grid.goto(`${url}/`);
      await tileState(grid, id, 'live');
      await grid.goto(`${url}/view/${id}`);
      return { page: grid, close: async () => {} };
    },
  };
  for (const [name, open] of Object.entries(cases)) {
    const runs = variants.map(() => ({
      total: [], steps: { boot: [], wsOpen: [], offerSent: [], answer: [], iceConnected: [], firstFrame: [] } }));
    // One untimed run warms the browser's WebRTC stack, as a real user's browser is.
    for (let i = 0; i <= FIRST_FRAME_RUNS; i++) {
      for (const [v, { id, wait, relay: on }] of variants.entries()) {
        const { page, close } = await open(id, on.url);
        const t = await wait(page);
        await close();
        if (i === 0) continue;
        runs[v].total.push(t.firstFrame);
        for (const k of Object.keys(runs[v].steps)) runs[v].steps[k].push(t[k]);
      }
    }
    for (const [v, { total, steps }] of runs.entries()) {
      const breakdown = Object.entries(steps).map(([k, xs]) => `${k} ${r1(med(xs))}`).join(', ');
      console.log(`first frame, ${name}${variants[v].label} `
        + `(navigation -> first decoded frame, 640x480, ${FIRST_FRAME_RUNS} runs): `
        + `median ${r1(med(total))} ms, p90 ${r1(pct(total, 90))} ms, min ${r1(Math.min(...total))} ms; `
        + `median step times from navigation: ${breakdown}`);
    }
  }
  // Click in the grid -> the next frame shown on the camera's (now large) tile.
  const clicks = [];
  for (let i = 0; i <= FIRST_FRAME_RUNS; i++) {
    await grid.goto(`${relay.url}/`);
    await tileState(grid, 'ff', 'live');
    const ms = await grid.evaluate(() => new Promise((resolve) => {
      const video = document.querySelector('figure.tile[data-camera="ff"] video');
      const clicked = performance.now();
      document.querySelector('figure.tile[data-camera="ff"] a.name').click();
      video.requestVideoFrameCallback(() => resolve(location.pathname === '/view/ff' ? performance.now() - clicked : null));
    }));
    if (ms === null) throw new Error('the click did not open the camera in place');
    if (i > 0) clicks.push(ms);
  }
  console.log(`first frame, click in the grid (click -> next frame on the camera's tile, shown large in place, `
    + `same session, ${FIRST_FRAME_RUNS} runs): median ${r1(med(clicks))} ms, p90 ${r1(pct(clicks, 90))} ms`);
  await grid.closeAll();
}

// `playoutDelay`: the agent's max-playout-delay (0: the browser shows each frame as
// soon as it is decoded; -1: the browser's own smoothing, the reference).
async function latencyOnce(stack, browser, relay, width, height, playoutDelay, run) {
  const id = `lat-${width}-${playoutDelay < 0 ? 'browser' : playoutDelay}-${run}`;
  const agent = await startAgent(stack, relay.port, id, ['--width', String(width), '--height', String(height), '--fps', '30',
    '--stamp', '--max-playout-delay', String(playoutDelay)]);
  const page = await browser.open(`${relay.url}/view/${id}`);
  await tileState(page, id, 'live');
  // Each presented frame's latency: its expected display time minus its capture
  // time. Reading the stamp off the <video> in the frame callback may catch the
  // next frame already (often, when frames are shown as soon as they are decoded),
  // so the stamps are read from every decoded frame (a MediaStreamTrackProcessor
  // on a clone of the track) by RTP timestamp, and the frame callback's
  // metadata.rtpTimestamp says exactly which frame is being shown.
  const { samples, received, unmatched } = await page.evaluate(async ([sel, n, readerSrc]) => {
    const read = new Function(`return (${readerSrc})`)();
    const video = document.querySelector(sel);
    const captured = new Map();  // RTP timestamp -> stamp time T
    const track = video.srcObject.getVideoTracks()[0].clone();
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    const reading = (async () => {
      for (;;) {
        const { value: frame, done } = await reader.read();
        if (done) return;
        const s = read(frame);
        const rtp = frame.metadata().rtpTimestamp;
        frame.close();
        if (s && rtp !== undefined) captured.set(rtp, s.t);
      }
    })();
    const shown = [];
    const deadline = performance.now() + 30000;
    await new Promise((resolve) => {
      const onFrame = (now, meta) => {
        // Wall clock at the display time (performance.timeOrigin drifts from the
        // wall clock, so take Date.now() at this callback instead).
        // A frame cannot be on screen before it is handed to the compositor: with no
        // playout delay, Chromium's expectedDisplayTime is sometimes that of a refresh
        // already under way (up to one interval early), so take the later of the two.
        const wall = Date.now() - performance.now();
        const display = Math.max(meta.expectedDisplayTime, meta.presentationTime);
        shown.push({ rtp: meta.rtpTimestamp, display: wall + display, received: wall + meta.receiveTime });
        if (shown.length >= n || performance.now() > deadline) resolve();
        else video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    });
    await new Promise((r) => setTimeout(r, 200));  // the last frames' stamps
    await reader.cancel();
    track.stop();
    await reading;
    const since = (at, t) => {
      let d = (Math.round(at) - t) % 4294967296;
      if (d < 0) d += 4294967296;
      return d > 2147483648 ? d - 4294967296 : d;
    };
    const samples = [], received = [];
    for (const f of shown) {
      const t = captured.get(f.rtp);
      if (t === undefined) continue;
      samples.push(since(f.display, t));
      received.push(since(f.received, t));
    }
    return { samples, received, unmatched: shown.length - samples.length };
  }, [`figure.tile[data-camera="${id}"] video`, LATENCY_FRAMES, readStampInPage.toString()]);
  const held = await page.evaluate(async () => {
    const pc = window.sightline.sessions.values().next().value.pc;
    for (const r of (await pc.getStats()).values()) {
      if (r.type === 'inbound-rtp' && r.kind === 'video') return 1000 * r.jitterBufferDelay / r.jitterBufferEmittedCount;
    }
    return NaN;
  });
  await page.closeAll();
  await stack.kill(agent, 'SIGTERM');
  return { samples, received, unmatched, held };
}

// Where a frame lands against the browser's display refresh depends on when the
// camera started: each run starts a new agent, and the samples of all runs are pooled.
async function latency(stack, browser, relay, width, height, playoutDelay) {
  const all = { samples: [], received: [], unmatched: 0, held: [] };
  for (let run = 1; run <= LATENCY_RUNS; run++) {
    const r = await latencyOnce(stack, browser, relay, width, height, playoutDelay, run);
    all.samples.push(...r.samples);
    all.received.push(...r.received);
    all.unmatched += r.unmatched;
    all.held.push(r.held);
  }
  const { samples, received, unmatched } = all;
  const held = all.held.reduce((a, b) => a + b, 0) / all.held.length;
  console.log(`latency ${width}x${height}@30, max-playout-delay ${playoutDelay} (stamp -> expected display, `
    + `${LATENCY_RUNS} runs, ${samples.length} frames): `
    + `p50 ${r1(med(samples))} ms, p95 ${r1(pct(samples, 95))} ms, min ${r1(Math.min(...samples))} ms, max ${r1(Math.max(...samples))} ms; `
    + `stamp -> last packet received p50 ${r1(med(received))} ms; browser's jitter buffer held frames ${r1(held)} ms on average`
    + `${unmatched ? `; ${unmatched} shown frames whose stamp was not read` : ''}`);
}

// Makes `pages` that many live pages on camera `id` (opening or closing some),
// then lets the joins and leaves settle.
async function watch(browser, relay, id, pages, viewers) {
  while (pages.length > viewers) await pages.pop().closeAll();
  while (pages.length < viewers) {
    const p = await browser.open(`${relay.url}/view/${id}`);
    await tileState(p, id, 'live');
    pages.push(p);
  }
  await new Promise((r) => setTimeout(r, 2000));
}

async function cpu(stack, browser, relay, width, height, reference = null) {
  const id = `cpu-${width}${reference ? '-ref' : ''}`;
  const agent = await startAgent(stack, relay.port, id, ['--width', String(width), '--height', String(height)],
    reference ? { binary: reference } : {});
  const pages = [];
  const figures = { 1: [], 4: [] };
  // 1, 4, 1, 4 viewers: the machine's drift (the browsers decoding on the same
  // cores) falls on both counts alike; each count's figure is over both windows.
  for (const viewers of [1, 4, 1, 4]) {
    await watch(browser, relay, id, pages, viewers);
    figures[viewers].push(await cpuPercent(agent.pid, CPU_WINDOW_MS / 2));
  }
  for (const p of pages) await p.closeAll();
  await stack.kill(agent, 'SIGTERM');
  const mean = (ws) => Object.fromEntries(Object.keys(ws[0]).map((k) => [k, ws.reduce((a, w) => a + w[k], 0) / ws.length]));
  const f1 = mean(figures[1]), f4 = mean(figures[4]);
  console.log(`${reference ? `reference agent ${reference}` : 'agent'} CPU ${width}x${height}@30 x264 2000 kbit/s `
    + `(share of one core over ${CPU_WINDOW_MS / 1000} s each, in two windows): `
    + `1 viewer ${r1(f1.total)}%, 4 viewers ${r1(f4.total)}%, ratio ${(f4.total / f1.total).toFixed(2)}; `
    + `capture+encode threads ${r1(f1.encode)}% -> ${r1(f4.encode)}%, `
    + `send thread(s) ${r1(f1.viewers)}% -> ${r1(f4.viewers)}% (${r1((f4.viewers - f1.viewers) / 3)}% per added viewer)`);
}

// What one more viewer costs the agent outside capture and encoding, finer than the
// cpu case's ratio (whose encoder share moves by more than a viewer costs): 1 and
// then 4 viewers on each agent in turn (ours, then REFERENCE_AGENT's), ROUNDS
// rounds, both agents running all along so that they share the machine alike.
async function viewerCost(stack, browser, relay, width, height) {
  const size = ['--width', String(width), '--height', String(height)];
  const agents = [['agent', `vc-${width}`, {}]];
  if (process.env.REFERENCE_AGENT) {
    agents.push([`reference agent ${process.env.REFERENCE_AGENT}`, `vc-${width}-ref`, { binary: process.env.REFERENCE_AGENT }]);
  }
  for (const a of agents) a.push(await startAgent(stack, relay.port, a[1], size, a[2]));
  const rounds = Number(process.env.ROUNDS || 3);
  const per = new Map(agents.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, id, , agent] of agents) {
      const pages = [];
      const f = {};
      for (const viewers of [1, 4]) {
        await watch(browser, relay, id, pages, viewers);
        f[viewers] = await cpuPercent(agent.pid, 8000);
      }
      for (const p of pages) await p.closeAll();
      per.get(name).push({
        all: ((f[4].total - f[4].encode) - (f[1].total - f[1].encode)) / 3,
        send: (f[4].viewers - f[1].viewers) / 3,
        send4: f[4].viewers,
      });
    }
  }
  const list = (xs, k) => xs.map((x) => x[k].toFixed(2)).join(', ');
  for (const [name] of agents) {
    const xs = per.get(name);
    console.log(`${name} cost of a viewer ${width}x${height}@30 x264 2000 kbit/s (${rounds} rounds, 8 s windows, `
      + `% of a core): per added viewer ${list(xs, 'all')} (of it the send thread ${list(xs, 'send')}); `
      + `send thread with 4 viewers ${list(xs, 'send4')}`);
  }
  for (const [, , , agent] of agents) await stack.kill(agent, 'SIGTERM');
}

const stack = new Stack();
await stack.run(async () => {
  const relay = await startRelay(stack);
  const browser = await startBrowser(stack);
  const only = process.argv[2];
  if (!only || only === 'first-frame') await firstFrame(stack, browser, relay);
  if (!only || only === 'latency') {
    for (const delay of [0, -1]) {  // ours, then the reference, in the same run
      await latency(stack, browser, relay, 640, 480, delay);
      await latency(stack, browser, relay, 1280, 720, delay);
    }
  }
  if (!only || only === 'cpu') {
    // REFERENCE_AGENT=<another sightline-agent binary>: measured the same way, in the same run.
    for (const [w, h] of [[640, 480], [1280, 720]]) {
      await cpu(stack, browser, relay, w, h);
      if (process.env.REFERENCE_AGENT) await cpu(stack, browser, relay, w, h, process.env.REFERENCE_AGENT);
    }
  }
  if (only === 'viewer-cost') {
    for (const [w, h] of [[640, 480], [1280, 720]]) await viewerCost(stack, browser, relay, w, h);
  }
});
