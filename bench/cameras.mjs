// Cameras benchmark: what the agent costs per camera.
//  - paths: one camera at WxH@30 with one viewer (a headless Chromium page), for
//    each way a camera's video reaches the encoder or skips it: the test pattern
//    encoded, raw YUYV converted and encoded, MJPEG decoded and encoded, the
//    camera's own H.264 passed through, and an IP camera's H.264 passed through
//    (an RTSP server in its own process) -- each without and with Opus sound.
//    The V4L2 paths run on the camera stand-in (emulate:), which does inside the
//    agent what a camera does in its own hardware (YUYV, JPEG compression, H.264
//    encoding); a gst-launch-1.0 process running only that part is measured in the
//    same run as the reference to subtract.
//  - agents: three cameras on one agent against three agents with one camera
//    each (same sizes, same encoder, one viewer each), side by side.
// CPU in % of one core, from every thread's schedstat over a window. Loopback
// only (run.sh puts it in its own namespace); every wait is bounded.
//   node bench/cameras.mjs [paths|agents] [WIDTHxHEIGHT]   (default both, 1280x720, x264enc)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Proc, Stack, camera, freePort, paths, startAgent, startRelay, waitFor } from '../tests/integration/lib/harness.mjs';
import { startBrowser, tileState } from '../tests/integration/lib/browser.mjs';
import { cpuPercent } from './cpu.mjs';

const MODE = ['paths', 'agents'].includes(process.argv[2]) ? process.argv[2] : '';
const [W, H] = (process.argv.find((a) => /^\d+x\d+$/.test(a)) || '1280x720').split('x').map(Number);
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


// A process's CPU share over the window (a gst-launch reference has no named threads).
async function processCpu(pid, ms) {
  return (await cpuPercent(pid, ms)).total;
}

const RTSP_SERVER = process.env.SIGHTLINE_RTSP_CAMERA || path.join(paths.source, 'build/tests/tools/rtsp-test-camera');
const SIZE = `width=${W},height=${H},framerate=30/1`;
const TEST_SRC = 'videotestsrc is-live=true pattern=smpte horizontal-speed=2';
const PATHS = [
  { name: 'test pattern, encoded', source: 'test' },
  { name: 'raw YUYV, converted and encoded', source: 'emulate:yuyv',
    reference: `${TEST_SRC} ! video/x-raw,format=I420,${SIZE} ! videoconvert ! video/x-raw,format=YUY2 ! fakesink sync=false` },
  { name: 'MJPEG, decoded and encoded', source: 'emulate:mjpeg',
    reference: `${TEST_SRC} ! video/x-raw,format=I420,${SIZE} ! jpegenc quality=90 ! fakesink sync=false` },
  { name: "camera's H.264, passed through", source: 'emulate:h264-baseline',
    reference: `${TEST_SRC} ! video/x-raw,format=I420,${SIZE} ! x264enc speed-preset=superfast key-int-max=15 ` +
      'bitrate=3000 tune=zerolatency bframes=0 ! video/x-h264,profile=constrained-baseline ! fakesink sync=false' },
  { name: 'IP camera (RTSP) H.264, passed through', rtsp: true },
];

async function measurePath(c, audio) {
  const stack = new Stack();
  let out;
  await stack.run(async () => {
    const relay = await startRelay(stack);
    let { source } = c;
    const extra = [];
    if (c.rtsp) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-bench-rtsp-'));
      stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
      const credentials = path.join(dir, 'credentials');
      fs.writeFileSync(credentials, 'bench:bench-password\n', { mode: 0o600 });
      const port = await freePort();
      const server = stack.add(new Proc('rtsp camera', RTSP_SERVER, ['--port', String(port), '--credentials-file',
        credentials, '--codec', 'h264', '--width', String(W), '--height', String(H), '--fps', '30']));
      await waitFor('the RTSP camera', () => server.output().includes('ready rtsp://'));
      source = `rtsp://127.0.0.1:${port}/cam`;
      extra.push('--rtsp-credentials-file', credentials);
    }
    const agent = await startAgent(stack, relay.port, 'cam', ['--source', source, '--width', String(W), '--height',
      String(H), '--fps', '30', '--encoder', 'x264enc', '--audio', audio ? 'test' : 'none', ...extra], { wait: false });
    await waitFor('the camera', async () => (await camera(relay.port, 'cam'))?.connected, { timeout: 30000 });
    const browser = await startBrowser(stack);
    const page = await browser.open(`${relay.url}/view/cam`);
    await tileState(page, 'cam', 'live', 30000);
    await new Promise((r) => setTimeout(r, 3000));
    const encoder = (await camera(relay.port, 'cam')).encoder;
    // The camera's own part, alone in its process, measured over the same window.
    const reference = c.reference && stack.add(new Proc('reference', 'gst-launch-1.0', ['-q', ...c.reference.split(' ')]));
    if (reference) await new Promise((r) => setTimeout(r, 1000));
    const [agentCpu, referenceCpu] = await Promise.all([processCpu(agent.child.pid, WINDOW_MS),
      ...(reference ? [processCpu(reference.child.pid, WINDOW_MS)] : [])]);
    if (reference) await stack.kill(reference, 'SIGTERM');  // gst-launch ends by the signal: expected
    out = { agentCpu, referenceCpu, encoder };
  });
  return out;
}

async function runPaths() {
  console.log(`paths: one camera at ${W}x${H}@30, one viewer; agent CPU over ${WINDOW_MS / 1000} s ` +
    '(for stand-in paths, minus a gst-launch-1.0 doing only what the camera would, measured alongside)');
  for (const c of PATHS) {
    const row = [];
    for (const audio of [false, true]) {
      const r = await measurePath(c, audio);
      const net = r.referenceCpu === undefined ? r.agentCpu : r.agentCpu - r.referenceCpu;
      row.push(`${audio ? 'with sound' : 'video only'} ${r1(net)}%` +
        (r.referenceCpu === undefined ? '' : ` (agent ${r1(r.agentCpu)}% - camera's part ${r1(r.referenceCpu)}%)`));
      if (!audio) row.unshift(`via ${r.encoder}`);
    }
    console.log(`  ${c.name.padEnd(40)} ${row.join(', ')}`);
  }
}

async function runAgents() {
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
}

if (MODE !== 'agents') await runPaths();
if (MODE !== 'paths') await runAgents();
