// A viewer on a shaped link (issue 20): what a page on a capped, lossy link sees
// from our agent, and from Chromium sending to Chromium as the reference, in the
// same run. Topology: tests/integration/lib/shaped.mjs (camera —router— viewer,
// tbf toward the viewer). Cases: `CAP[+lossN]` in kbit/s, e.g. 1000 or 3000+loss2;
// 0 leaves the link unshaped (the steady phase only: what the pipelines add).
//
// Each side, each case, one timeline (PHASES): the cap is CAP from the start
// (the viewer opens the page on that link) and the figures are taken over the
// end of that phase; then the cap drops to a third of CAP and lifts back to CAP,
// and the seconds until the viewer is served again are timed: received bitrate
// under the new cap (after the drop) or back to 90% of the steady phase's, at
// most of 2000 kbit/s (after the lift), with every frame shown in a 1 s window
// under 300 ms of stamp latency.
//  - ours: sightline-agent, 1280x720@30, x264 at 2000 kbit/s, --stamp, no
//    congestion control yet;
//  - reference: a sender page in the camera's namespace drawing a 1280x720 30 fps
//    canvas with the same LTS1 stamp (docs/latency-stamp.md) and sending its
//    captureStream() (at most 2000 kbit/s) to a receiver page in the viewer's
//    namespace; libwebrtc's congestion control adapts it. Signaling goes through
//    this process; no relay.
// Both are measured by the same code in the receiving page: inbound-rtp stats
// every 250 ms, and the stamp read off the <video> in requestVideoFrameCallback.
// Prints one line per case and side; no pass/fail. Bounded: every phase is a
// fixed time and every wait has a deadline.
import os from 'node:os';
import { Stack } from '../tests/integration/lib/harness.mjs';
import { readStampInPage } from '../tests/integration/lib/stamp.mjs';
import { OUR_PAGE, STALL_MS, figures, pct, secondsUntil, startSampler } from '../tests/integration/lib/link_sampler.mjs';
import { CAMERA, VIEWER, buildShapedLink, startBrowserIn, startCameraSide } from '../tests/integration/lib/shaped.mjs';

// Phase lengths in seconds (the environment may shorten them for a trial run).
const STEADY_S = Number(process.env.STEADY_S || 25);   // the figures: its last MEASURE_S
const MEASURE_S = Math.min(15, STEADY_S - 5);
const DROP_S = Number(process.env.DROP_S || 15);
const LIFT_S = Number(process.env.LIFT_S || 20);  // libwebrtc climbs back at ~8% a second
const CASES = process.argv.slice(2).length ? process.argv.slice(2) : ['600', '1000', '3000+loss2'];
// SIDES=ours (or reference) runs one side only, for a trial; the figures are taken with both.
const SIDES = (process.env.SIDES || 'ours,reference').split(',');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function parseCase(text) {
  const m = /^(\d+)(?:\+loss(\d+(?:\.\d+)?))?$/.exec(text);
  if (!m) throw new Error(`a case is CAP[+lossN] in kbit/s and %, e.g. 1000 or 3000+loss2, not '${text}'`);
  return { cap: Number(m[1]), loss: Number(m[2] || 0) };
}

// Drives one side's timeline: shapes the link phase by phase while the receiving
// page records. `open()` starts the session; resolves to the figures line.
async function timeline(link, { cap, loss }, receiver, open) {
  const low = Math.round(cap / 3);
  link.shape({ kbit: cap, loss });
  const start = Date.now();
  await open();
  await sleep(STEADY_S * 1000 - (Date.now() - start));
  const dropAt = Date.now();
  if (!cap) {
    // Unshaped: the same figures, for what the pipeline itself adds.
    const rec = await receiver.evaluate(() => window.benchSampler.stop());
    const f = figures(rec, dropAt - MEASURE_S * 1000, dropAt);
    return { rec, line: `steady (last ${MEASURE_S} s): received ${Math.round(f.kbps)} kbit/s, ${f.fps.toFixed(1)} fps decoded, `
      + `latency p50 ${Math.round(f.p50)} ms p95 ${Math.round(f.p95)} ms (${f.stamped} of ${f.shown} shown frames stamped), `
      + `${f.height}p; sessions ${rec.sessions}` };
  }
  link.shape({ kbit: low, loss });
  await sleep(DROP_S * 1000);
  const liftAt = Date.now();
  link.shape({ kbit: cap, loss });
  await sleep(LIFT_S * 1000);
  const end = Date.now();
  const rec = await receiver.evaluate(() => window.benchSampler.stop());
  const steady = figures(rec, dropAt - MEASURE_S * 1000, dropAt);
  const dropped = secondsUntil(rec, dropAt, liftAt, (f) => f.kbps < low);
  // Served again: 90% of what the steady phase received, at most of the 2000 kbit/s
  // both senders are held to (retransmissions can push a collapsing link's past it).
  const lifted = secondsUntil(rec, liftAt, end, (f) => f.kbps >= 0.9 * Math.min(steady.kbps, 2000));
  const ms = (x) => (Number.isNaN(x) ? '-' : `${Math.round(x)}`);
  // Where each phase ended up (its last 5 s), to tell "slow to adapt" from "never served".
  const end5 = (t) => {
    const f = figures(rec, t - 5000, t);
    return `${Math.round(f.kbps)} kbit/s, ${f.fps.toFixed(1)} fps, p50 ${ms(f.p50)} ms`;
  };
  const s = (x, limit) => (x === null ? `not within ${limit} s` : `${x.toFixed(2)} s`);
  const line = `steady (last ${MEASURE_S} s): received ${Math.round(steady.kbps)} kbit/s = ${Math.round(100 * steady.kbps / cap)}% of the cap, `
    + `${(100 * steady.lostShare).toFixed(1)}% packets lost, ${Math.round(100 * steady.retransmittedShare)}% of the bytes `
    + `retransmissions, ${steady.fps.toFixed(1)} fps decoded, `
    + `freezes ${Math.round(100 * steady.freezeShare)}% of the time (totalFreezesDuration), `
    + `no new frame for over ${STALL_MS} ms ${Math.round(100 * steady.stalledShare)}%, longest gap ${(steady.gap / 1000).toFixed(1)} s, `
    + `latency p50 ${ms(steady.p50)} ms p95 ${ms(steady.p95)} ms (${steady.stamped} of ${steady.shown} shown frames stamped), `
    + `${steady.height}p; `
    + `cap ${cap}->${low}: adapted after ${s(dropped, DROP_S)} (last 5 s: ${end5(liftAt)}); `
    + `cap ${low}->${cap}: after ${s(lifted, LIFT_S)} (last 5 s: ${end5(end)}); `
    + `sessions ${rec.sessions}`;
  return { line, rec };
}

async function ours(stack, link, camera, viewers, which) {
  const agent = await camera.startCamera(['--width', '1280', '--height', '720', '--fps', '30', '--bitrate', '2000',
    '--stamp']);
  const page = await viewers.open('about:blank');
  try {
    const { line, rec } = await timeline(link, which, page, async () => {
      await page.goto(camera.url, { timeout: 30000 });
      await page.evaluate(startSampler, [OUR_PAGE, readStampInPage.toString()]);
    });
    return `${line}; the page's own script ${rec.pageLoaded ? 'loaded' : 'never loaded (its session played in view.html\'s early <video>)'}`;
  } finally {
    await page.closeAll();
    await stack.kill(agent, 'SIGTERM');
  }
}

// Runs in the sender page: a 1280x720 canvas at 30 fps, bars scrolling 2 px a
// frame like the agent's test source, a patch of fresh noise so the encoder has
// to spend its whole target, and the LTS1 stamp written when the frame is drawn.
function startSender() {
  const canvas = document.createElement('canvas');
  canvas.width = 1280;
  canvas.height = 720;
  document.body.append(canvas);
  const ctx = canvas.getContext('2d');
  const noise = new Uint8ClampedArray(320 * 180 * 4 * 8);
  for (let i = 0; i < noise.length; i += 65536) crypto.getRandomValues(noise.subarray(i, i + 65536));
  for (let i = 3; i < noise.length; i += 4) noise[i] = 255;
  const colours = ['#c0c0c0', '#c0c000', '#00c0c0', '#00c000', '#c000c0', '#c00000', '#0000c0'];
  const crc8 = (bytes) => {
    let c = 0;
    for (const b of bytes) {
      c ^= b;
      for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 255 : (c << 1) & 255;
    }
    return c;
  };
  let n = 0;
  const draw = () => {
    const shift = (2 * n) % 1280;
    for (let i = 0; i < 7; i++) {
      ctx.fillStyle = colours[i];
      const x = (Math.round(i * 1280 / 7) + shift) % 1280;
      ctx.fillRect(x, 0, Math.ceil(1280 / 7), 720);
      if (x + 1280 / 7 > 1280) ctx.fillRect(x - 1280, 0, Math.ceil(1280 / 7), 720);
    }
    const frame = n % 8;
    ctx.putImageData(new ImageData(noise.subarray(frame * 320 * 180 * 4, (frame + 1) * 320 * 180 * 4), 320, 180),
      480 + 200 * Math.sin(n / 30), 400);
    const t = Number(BigInt(Date.now()) % 4294967296n), s = n % 64;
    const bits = [1, 0];
    for (let i = 31; i >= 0; i--) bits.push(Math.floor(t / 2 ** i) % 2);
    for (let i = 5; i >= 0; i--) bits.push((s >> i) & 1);
    const crc = crc8([(t >>> 24) & 255, (t >>> 16) & 255, (t >>> 8) & 255, t & 255, s]);
    for (let i = 7; i >= 0; i--) bits.push((crc >> i) & 1);
    bits.forEach((bit, k) => {
      ctx.fillStyle = bit ? '#fff' : '#000';
      ctx.fillRect(16 * (k % 24), 16 * Math.floor(k / 24), 16, 16);
    });
    n++;
  };
  draw();
  setInterval(draw, 1000 / 30);
  window.benchStream = canvas.captureStream(30);
}

// Non-trickle offer/answer between the two pages, through this process: each
// side's candidates are in its description once gathering completes. Only the
// link's addresses are kept (the management links are no path between them).
async function negotiateReference(sender, receiver) {
  // Host candidates only: gathering ends within milliseconds; 10 s bounds it anyway.
  const complete = async (pc) => {
    if (pc.iceGatheringState !== 'complete') {
      await new Promise((r) => {
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
        setTimeout(r, 10000);
      });
    }
    return pc.localDescription.sdp;
  };
  const keep = (sdp, address) => sdp.split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:') || l.includes(` ${address} `)).join('\r\n');
  const offer = await sender.evaluate(async (completeSrc) => {
    const pc = window.benchPc = new RTCPeerConnection();
    const track = window.benchStream.getVideoTracks()[0];
    const tx = pc.addTransceiver(track, { direction: 'sendonly', sendEncodings: [{ maxBitrate: 2000000, maxFramerate: 30 }] });
    window.benchTx = tx;
    await pc.setLocalDescription();
    return new Function(`return (${completeSrc})`)()(pc);
  }, complete.toString());
  const answer = await receiver.evaluate(async ([sdp, completeSrc]) => {
    const pc = window.benchPc = new RTCPeerConnection();
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    document.body.append(video);
    pc.ontrack = (e) => { video.srcObject = new MediaStream([e.track]); };
    window.benchVideo = video;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription();
    return new Function(`return (${completeSrc})`)()(pc);
  }, [keep(offer, CAMERA), complete.toString()]);
  await sender.evaluate((sdp) => window.benchPc.setRemoteDescription({ type: 'answer', sdp }), keep(answer, VIEWER));
}

async function reference(link, senders, viewers, which) {
  const sender = await senders.open('about:blank');
  const receiver = await viewers.open('about:blank');
  try {
    await sender.evaluate(startSender);
    const { line } = await timeline(link, which, receiver, async () => {
      await negotiateReference(sender, receiver);
      await receiver.evaluate(startSampler, ['() => ({ pc: window.benchPc, video: window.benchVideo })',
        readStampInPage.toString()]);
    });
    // What libwebrtc says held it back over the whole timeline (bandwidth: its
    // congestion control; cpu: this shared 2-core machine).
    const held = await sender.evaluate(async () => {
      for (const r of (await window.benchPc.getStats()).values()) {
        if (r.type === 'outbound-rtp' && r.kind === 'video') {
          return { ...r.qualityLimitationDurations, changes: r.qualityLimitationResolutionChanges };
        }
      }
      return null;
    });
    const total = held ? (held.none || 0) + (held.bandwidth || 0) + (held.cpu || 0) + (held.other || 0) : 0;
    const share = (k) => `${Math.round(100 * (held[k] || 0) / total)}%`;
    return `${line}; sender limited by bandwidth ${total ? share('bandwidth') : '-'}, cpu ${total ? share('cpu') : '-'} `
      + `of the time, ${held?.changes ?? '-'} resolution changes`;
  } finally {
    await sender.closeAll();
    await receiver.closeAll();
  }
}

const stack = new Stack();
await stack.run(async () => {
  const link = buildShapedLink(stack);
  const camera = await startCameraSide(stack, link);
  const viewers = await startBrowserIn(stack, link, 'view');
  const senders = await startBrowserIn(stack, link, 'cam');
  for (const text of CASES) {
    const which = parseCase(text);
    const label = `${which.cap ? `shaped ${which.cap} kbit/s` : 'unshaped'}${which.loss ? ` + ${which.loss}% loss` : ''}`;
    if (SIDES.includes('ours'))
      console.log(`${label}, ours (agent 1280x720@30, x264 at most 2000 kbit/s, GCC per viewer): `
        + await ours(stack, link, camera, viewers, which));
    if (SIDES.includes('reference'))
      console.log(`${label}, reference (Chromium -> Chromium canvas 1280x720@30, max 2000 kbit/s): `
        + await reference(link, senders, viewers, which));
    // The machine is shared: how busy it was says how far CPU figures can be trusted.
    console.log(`${label}: load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
  }
  link.shape({});
});
