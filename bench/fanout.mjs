// Fan-out benchmark (docs/fanout.md): prints one line of figures per case.
//  - relay CPU per added viewer (1, 4, 16 viewers; 640x480@30 and 1280x720@30 at
//    2000 kbit/s): the worker process and the relay process, side by side with
//    Janus's streaming plugin (../shared/anchors/janus) fed a stream of the same
//    size, rate and bitrate, in the same run;
//  - the camera's agent: CPU and what it sends over its link with 1 and 10
//    viewers, direct and through the relay;
//  - first frame through the relay (a page opening a camera already fanned out,
//    navigation -> first decoded frame, median of 10) against direct, same run;
//  - latency added by fan-out: stamp latency of a page watching directly and one
//    watching through the relay, at the same time.
// The camera's agents run in their own namespace, the relay, its workers, Janus and
// the browser in the relay's (tests/integration/lib/fanout_net.mjs); nothing leaves
// the namespaces this run makes. Every loop is bounded.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Proc, Stack, waitFor } from '../tests/integration/lib/harness.mjs';
import { tileState } from '../tests/integration/lib/browser.mjs';
import { buildFanoutNet } from '../tests/integration/lib/fanout_net.mjs';
import { OUR_PAGE, figures, startSampler } from '../tests/integration/lib/link_sampler.mjs';
import { readStampInPage } from '../tests/integration/lib/stamp.mjs';
import { cpuPercent } from './cpu.mjs';

const WINDOW_MS = Number(process.env.WINDOW_MS || 8000);
const VIEWERS = (process.env.VIEWERS || '1,4,16').split(',').map(Number);
const RUNS = Number(process.env.RUNS || 10);
const JANUS_DIR = process.env.JANUS_ANCHOR || path.resolve('../shared/anchors/janus');
const r1 = (x) => Math.round(x * 10) / 10;
const r2 = (x) => Math.round(x * 100) / 100;
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pctile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const only = process.argv[2];

const children = (pid) => {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { return []; }
};

// Brings `pages` to `n` live pages opened by `open` and waited for by `live`.
async function resize(pages, n, open, live) {
  while (pages.length > n) await pages.pop().closeAll();
  while (pages.length < n) {
    const p = await open();
    await live(p);
    pages.push(p);
  }
  await sleep(2000);
}

async function startJanus(stack, net, width, height) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-janus-'));
  stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  for (const f of ['janus.jcfg', 'janus.plugin.streaming.jcfg', 'janus.transport.http.jcfg', 'viewer.html']) {
    let text = fs.readFileSync(path.join(JANUS_DIR, f), 'utf8');
    // The relay host's own interface toward the camera: the anchor's jv0 is this run's "tocam".
    if (f === 'janus.jcfg') text = text.replace('ice_enforce_list = "jv0"', 'ice_enforce_list = "tocam"');
    fs.writeFileSync(path.join(dir, f), text);
  }
  const janus = stack.add(new Proc('janus', 'ip', ['netns', 'exec', net.ns.hub, 'janus', '-F', dir, '-C',
    path.join(dir, 'janus.jcfg')]));
  const helpers = [];
  // The same camera as ours: a test pattern with the stamp area, x264 at 2000 kbit/s, 30 fps, 1 s GOP... as the anchor says.
  helpers.push(stack.add(new Proc('janus feed', 'ip', ['netns', 'exec', net.ns.hub, 'gst-launch-1.0', '-q', 'videotestsrc',
    'is-live=true', '!', `video/x-raw,width=${width},height=${height},framerate=30/1`, '!', 'x264enc',
    'tune=zerolatency', 'speed-preset=ultrafast', 'key-int-max=60', 'bitrate=2000', '!',
    'video/x-h264,profile=constrained-baseline', '!', 'rtph264pay', 'pt=96', 'config-interval=-1', '!', 'udpsink',
    'host=127.0.0.1', 'port=15006'])));
  // viewer.html from a static server beside it.
  const serve = `require('http').createServer((q,s)=>{s.setHeader('content-type','text/html');` +
    `s.end(require('fs').readFileSync('${path.join(dir, 'viewer.html')}'))}).listen(18090,'127.0.0.1')`;
  helpers.push(stack.add(new Proc('viewer.html', 'ip', ['netns', 'exec', net.ns.hub, process.execPath, '-e', serve])));
  await waitFor('janus', async () => {
    try { return (await fetch('http://127.0.0.1:18090/')).ok && janus.output().includes('HTTP webserver started'); } catch { return false; }
  }, { timeout: 20000 }).catch(() => {});
  return { janus, stop: async () => { for (const p of [janus, ...helpers]) await stack.kill(p, 'SIGTERM'); } };
}

async function relayCpu(stack, net, browser, relay, width, height) {
  const id = `cpu${width}`;
  const agent = await net.startCamera(id, ['--width', String(width), '--height', String(height), '--bitrate', '2000']);
  const ours = [];
  const open = () => browser.open(net.viewUrl('hub', id));
  const live = (p) => tileState(p, id, 'live', 30000);
  const fig = {};
  for (const n of VIEWERS) {
    await resize(ours, n, open, live);
    await waitFor(`${n} viewers through the worker`, async () => (await net.camera(id))?.relay_branches === n,
      { timeout: 30000 });
    const worker = children(relay.pid)[0];
    const [w, r] = await Promise.all([cpuPercent(worker, WINDOW_MS), cpuPercent(relay.pid, WINDOW_MS)]);
    fig[n] = { worker: w.total, relay: r.total };
  }
  for (const p of ours) await p.closeAll();
  await stack.kill(agent, 'SIGTERM');
  // Janus, the same viewers.
  const { janus, stop } = await startJanus(stack, net, width, height);
  const theirs = [];
  const jfig = {};
  const jopen = () => browser.open('http://127.0.0.1:18090/');
  const jlive = (p) => waitFor('janus video', () => p.evaluate(() => {
    const v = document.getElementById('v');
    return v && v.videoWidth > 0 && v.currentTime > 0;
  }), { timeout: 30000 });
  for (const n of VIEWERS) {
    await resize(theirs, n, jopen, jlive);
    jfig[n] = (await cpuPercent(janus.pid, WINDOW_MS)).total;
  }
  for (const p of theirs) await p.closeAll();
  await stop();
  const first = VIEWERS[0], last = VIEWERS[VIEWERS.length - 1];
  const per = (a, b) => (b - a) / (last - first);
  console.log(`relay CPU ${width}x${height}@30 2000 kbit/s (% of a core, ${WINDOW_MS / 1000} s windows): `
    + `ours worker ${VIEWERS.map((n) => `${n}: ${r1(fig[n].worker)}`).join(', ')} `
    + `(+ relay process ${VIEWERS.map((n) => r1(fig[n].relay)).join(', ')}), `
    + `per added viewer ${r2(per(fig[first].worker + fig[first].relay, fig[last].worker + fig[last].relay))}% | `
    + `janus ${VIEWERS.map((n) => `${n}: ${r1(jfig[n])}`).join(', ')}, per added viewer ${r2(per(jfig[first], jfig[last]))}%`);
}

async function agentSide(stack, net, browser) {
  for (const mode of ['direct', 'relay']) {
    const id = `side-${mode}`;
    const agent = await net.startCamera(id, ['--width', '640', '--height', '480', '--bitrate', '2000']);
    const pages = [];
    const f = {};
    for (const n of [1, 10]) {
      await resize(pages, n, () => browser.open(net.viewUrl('hub', id)), (p) => tileState(p, id, 'live', 30000));
      if (mode === 'relay') await waitFor('through the worker', async () => (await net.camera(id))?.relay_branches === n, { timeout: 30000 });
      const tx0 = net.camSentBytes();
      const t0 = Date.now();
      const cpu = await cpuPercent(agent.pid, WINDOW_MS);
      f[n] = { cpu: cpu.total, kbps: (net.camSentBytes() - tx0) * 8 / (Date.now() - t0) };
    }
    for (const p of pages) await p.closeAll();
    await stack.kill(agent, 'SIGTERM');
    console.log(`camera agent 640x480@30 2000 kbit/s, ${mode}: 1 viewer ${r1(f[1].cpu)}% of a core, sends ${Math.round(f[1].kbps)} kbit/s; `
      + `10 viewers ${r1(f[10].cpu)}%, sends ${Math.round(f[10].kbps)} kbit/s`);
  }
}

async function untouchedTiming(page) {
  const deadline = Date.now() + 15000;
  await sleep(1000);
  for (;;) {
    const t = await page.evaluate(() => window.sightline?.timing ?? null);
    if (t?.firstFrame !== undefined) return t;
    if (Date.now() > deadline) throw new Error(`no first frame on ${page.url()} within 15 s`);
    await sleep(250);
  }
}

async function firstFrameAndLatency(stack, net, browser) {
  const size = ['--width', '1280', '--height', '720', '--bitrate', '2000', '--stamp'];
  await net.startCamera('ff-direct', size);
  await net.startCamera('ff-relay', size);
  // A page that keeps ff-relay fanned out; ff-direct stays direct (fanout-camera).
  const keeper = await browser.open(net.viewUrl('hub', 'ff-relay'));
  await waitFor('ff-relay through the relay', async () => (await net.camera('ff-relay'))?.relay_branches === 1, { timeout: 30000 });
  const times = { 'ff-direct': [], 'ff-relay': [] };
  const steps = { 'ff-direct': {}, 'ff-relay': {} };
  const afterIce = {};
  for (let i = 0; i <= RUNS; i++) {
    for (const id of Object.keys(times)) {
      const page = await browser.open(net.viewUrl('hub', id));
      const t = await untouchedTiming(page);
      await page.closeAll();
      if (i === 0) continue;
      times[id].push(t.firstFrame);
      (afterIce[id] ??= []).push(t.firstFrame - t.iceConnected);
      for (const k of ['offerSent', 'answer', 'iceConnected', 'firstFrame']) (steps[id][k] ??= []).push(t[k]);
    }
  }
  console.log(`first frame 1280x720 (navigation -> first decoded frame, new tab, ${RUNS} runs, median): `
    + `through the relay ${r1(med(times['ff-relay']))} ms, direct ${r1(med(times['ff-direct']))} ms (same run); `
    + `ICE connected -> first frame: through the relay ${r1(med(afterIce['ff-relay']))} ms, `
    + `direct ${r1(med(afterIce['ff-direct']))} ms; `
    + `median steps from navigation: ${Object.entries(steps).map(([id, st]) => `${id} `
      + Object.entries(st).map(([k, xs]) => `${k} ${r1(med(xs))}`).join(', ')).join('; ')}`);
  // Latency: one page on each camera, sampled at the same time.
  const direct = await browser.open(net.viewUrl('hub', 'ff-direct'));
  await tileState(direct, 'ff-direct', 'live', 30000);
  await tileState(keeper, 'ff-relay', 'live', 30000);
  const find = (id) => OUR_PAGE.replace('"cam"', `"${id}"`).replace('data-camera="cam"', `data-camera="${id}"`);
  await direct.evaluate(startSampler, [find('ff-direct'), readStampInPage.toString()]);
  await keeper.evaluate(startSampler, [find('ff-relay'), readStampInPage.toString()]);
  const t0 = Date.now();
  await sleep(15000);
  const t1 = Date.now();
  const d = figures(await direct.evaluate(() => window.benchSampler.stop()), t0 + 1000, t1);
  const r = figures(await keeper.evaluate(() => window.benchSampler.stop()), t0 + 1000, t1);
  console.log(`latency 1280x720@30 (stamp -> display, 14 s, same time): through the relay p50 ${r1(r.p50)} ms, `
    + `p95 ${r1(r.p95)} ms, ${r1(r.fps)} fps; direct p50 ${r1(d.p50)} ms, p95 ${r1(d.p95)} ms, ${r1(d.fps)} fps; `
    + `added at p50 ${r1(r.p50 - d.p50)} ms`);
  // The same, to the frame's arrival (requestVideoFrameCallback's receiveTime: its
  // last packet in) rather than its display: what forwarding adds, without the
  // display's 16.7 ms steps, which fall differently for two cameras.
  const arrivals = (page, id) => page.evaluate(([cam, readerSrc, ms]) => new Promise((resolve) => {
    const read = new Function(`return (${readerSrc})`)();
    const video = document.querySelector(`figure.tile[data-camera="${cam}"] video`);
    const corner = document.createElement('canvas');
    corner.width = 384;
    corner.height = 32;
    const ctx = corner.getContext('2d', { willReadFrequently: true });
    const out = [];
    const end = performance.now() + ms;
    const onFrame = (now, meta) => {
      if (meta.receiveTime !== undefined) {
        ctx.drawImage(video, 0, 0, 384, 32, 0, 0, 384, 32);
        const s = read(corner);
        if (s) {
          let age = (Math.round(performance.timeOrigin + meta.receiveTime) - s.t) % 4294967296;
          if (age < 0) age += 4294967296;
          if (age < 10000) out.push(age);
        }
      }
      if (now < end) video.requestVideoFrameCallback(onFrame);
      else resolve(out);
    };
    video.requestVideoFrameCallback(onFrame);
  }), [id, readStampInPage.toString(), 14000]);
  const [ad, ar] = await Promise.all([arrivals(direct, 'ff-direct'), arrivals(keeper, 'ff-relay')]);
  console.log(`latency 1280x720@30 (stamp -> the frame's last packet in, 14 s, same time, ${ad.length} and `
    + `${ar.length} frames): through the relay p50 ${med(ar)} ms, p95 ${pctile(ar, 95)} ms; direct p50 ${med(ad)} ms, `
    + `p95 ${pctile(ad, 95)} ms; added at p50 ${med(ar) - med(ad)} ms`);
}

const stack = new Stack();
await stack.run(async () => {
  const net = await buildFanoutNet(stack, {
    relayArgs: ['--fanout', 'relay', '--fanout-camera', 'ff-direct=direct', '--fanout-camera', 'side-direct=direct',
      '--fanout-idle', '2',
      '--max-sessions-per-client', '1000', '--max-sessions-per-camera', '1000', '--max-pending-sessions', '64'],
    devices: ['cpu640', 'cpu1280', 'side-direct', 'side-relay', 'ff-direct', 'ff-relay'],
  });
  const relay = await net.startRelay();
  const browser = await net.startBrowser('hub');
  if (!only || only === 'cpu') {
    await relayCpu(stack, net, browser, relay, 640, 480);
    await relayCpu(stack, net, browser, relay, 1280, 720);
  }
  if (!only || only === 'agent') await agentSide(stack, net, browser);
  if (!only || only === 'first-frame') await firstFrameAndLatency(stack, net, browser);
});
