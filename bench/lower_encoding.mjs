// The camera's lower encoding (issue 20): what it costs the camera, and what the
// viewer on the thin link gets. Two pages of one camera (1280x720@30, 2000 kbit/s):
// one next to the camera, one behind the router (tests/integration/lib/shaped.mjs);
// case `none` leaves that link unshaped (both get the full encoding, no lower one
// is made), case `lower` caps it at CAP kbit/s (default 600: the camera makes its
// lower encoding, 640x360, for that page). Per case: the agent's CPU over WINDOW s
// once the pages have settled, and both pages' figures over the same window.
//   bash bench/run.sh lower-encoding
// PATTERN=ball: the test source's moving ball instead of its colour bars.
// SOURCE=rtsp: the camera is an IP camera (tests/tools/rtsp-test-camera, its own
// process, x264 constrained baseline at its default 2048 kbit/s) whose H.264 the
// agent passes through: its lower encoding decodes that H.264 and encodes it again.
// Prints one line per case and the ratio; no pass/fail. Every wait has a deadline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Proc, Stack, waitFor } from '../tests/integration/lib/harness.mjs';
import { readStampInPage } from '../tests/integration/lib/stamp.mjs';
import { buildShapedLink, startBrowserIn, startCameraSide, startNearAndFar } from '../tests/integration/lib/shaped.mjs';
import { rtspCameraBinary } from '../tests/integration/lib/rtsp_camera.mjs';
import { OUR_PAGE, figures, startSampler } from '../tests/integration/lib/link_sampler.mjs';
import { cpuPercent } from './cpu.mjs';

const CAP = Number(process.env.CAP || 600);
const WINDOW = Number(process.env.WINDOW || 30);
const SETTLE = 15;
const PATTERN = process.env.PATTERN || 'smpte';  // the test source's picture (ball: more motion, a costlier encode)
const SOURCE = process.env.SOURCE || 'test';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The two pages and the camera: the agent's test source, or an IP camera beside
// the agent (in the camera's namespace, on its loopback) passed through.
async function start(stack) {
  if (SOURCE !== 'rtsp') return startNearAndFar(stack, { extra: ['--pattern', PATTERN] });
  const link = buildShapedLink(stack);
  const camera = await startCameraSide(stack, link, { heartbeat: 5 });
  const near = await startBrowserIn(stack, link, 'cam');
  const far = await startBrowserIn(stack, link, 'view');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-bench-rtsp-'));
  stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const credentials = path.join(dir, 'credentials');
  fs.writeFileSync(credentials, 'bench:bench-password\n', { mode: 0o600 });
  const server = stack.add(new Proc('rtsp camera', ...link.exec('cam', rtspCameraBinary, ['--port', '8554',
    '--credentials-file', credentials, '--codec', 'h264', '--pattern', PATTERN, '--width', '1280', '--height', '720',
    '--fps', '30'])));
  await waitFor('the RTSP camera', () => server.output().includes('ready rtsp://'));
  const agent = await camera.startCamera(['--source', 'rtsp://127.0.0.1:8554/cam', '--rtsp-credentials-file',
    credentials, '--width', '1280', '--height', '720', '--fps', '30']);
  return { link, camera, near, far, agent };
}

async function measure(name, kbit) {
  const stack = new Stack();
  let out = null;
  await stack.run(async () => {
    const { link, camera, near, far, agent } = await start(stack);
    link.shape({ kbit });
    const pages = [await near.open(camera.url), await far.open(camera.url)];
    for (const page of pages) await page.evaluate(startSampler, [OUR_PAGE, readStampInPage.toString()]);
    await waitFor('both viewers connected', async () =>
      (agent.output().match(/viewer connected/g) || []).length >= 2, { timeout: 30000 });
    await sleep(SETTLE * 1000);
    const from = Date.now();
    const cpu = await cpuPercent(agent.pid, WINDOW * 1000);
    const [good, thin] = await Promise.all(pages.map(async (p) =>
      figures(await p.evaluate(() => window.benchSampler.read()), from, from + WINDOW * 1000)));
    const [listed] = await camera.cameras();
    out = { cpu, good, thin, lower: listed.lower_kbps ? `${listed.lower_width}x${listed.lower_height} at `
      + `${listed.lower_kbps} kbit/s, ${listed.lower_viewers} viewer` : 'none' };
    const said = (f) => `${Math.round(f.kbps)} kbit/s ${f.height}p ${f.fps.toFixed(1)} fps, freezes `
      + `${(100 * f.freezeShare).toFixed(1)}%, p95 ${Math.round(f.p95)} ms`;
    console.log(`${name.padEnd(6)} (far link ${kbit ? `${kbit} kbit/s` : 'unshaped'}): agent CPU `
      + `${cpu.total.toFixed(1)}% of a core (capture + full encode ${cpu.encode.toFixed(1)}%); lower encoding: `
      + `${out.lower}; near page ${said(good)}; far page ${said(thin)}`);
    for (const p of pages) await p.closeAll();
  });
  return out;
}

const none = await measure('none', 0);
const lower = await measure('lower', CAP);
console.log(`CPU with one lower encoding live / with none: ${(lower.cpu.total / none.cpu.total).toFixed(2)}x`);
