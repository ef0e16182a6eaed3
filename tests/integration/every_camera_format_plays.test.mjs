// Every path a V4L2 camera takes through the agent, with the camera stand-in
// (--source emulate:FORMAT, docs/cameras.md) where v4l2src would be: raw YUYV
// and NV12 encoded, MJPEG decoded and encoded, the camera's own H.264 passed
// through (constrained baseline, main, high), and High with B-frames, High
// 4:2:2 and High 10 decoded and encoded again. The stand-in stamps its raw
// frames before it converts, compresses or encodes them, so each page reading
// the stamp proves the agent's whole path, at the size asked for.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import test from 'node:test';
import { Stack, camera, paths, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { nowT, readStamp } from './lib/stamp.mjs';

// [format, what the agent does with it]
const allFormats = [
  ['yuyv', 'encode'],
  ['nv12', 'encode'],
  ['mjpeg', 'encode'],
  ['h264-baseline', 'pass'],
  ['h264-main', 'pass'],
  ['h264-high', 'pass'],
  ['h264-high-bframes', 'reencode'],
  ['h264-high422', 'reencode'],
  ['h264-high10', 'reencode'],
];
// ONLY=FORMAT runs that format alone (when looking into one).
const formats = allFormats.filter(([f]) => !process.env.ONLY || f === process.env.ONLY);
// The smallest frame the stamp fits in (384x32), at a low rate: nine cameras
// on two cores.
const [width, height] = [384, 216];

test('every camera format plays', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    const agents = new Map();
    await Promise.all(formats.map(async ([format]) => {
      agents.set(format, await startAgent(stack, relay.port, format, ['--source', `emulate:${format}`, '--width',
        String(width), '--height', String(height), '--fps', '15', '--stamp']));
    }));
    const browser = await startBrowser(stack);
    for (const [format, path] of formats) {
      const agent = agents.get(format);
      const page = await browser.open(`${relay.url}/view/${format}`);
      await tileState(page, format, 'live');
      const video = `figure.tile[data-camera="${format}"] video`;
      const first = await waitFor(`a stamp from ${format}`, () => readStamp(page, video));
      assert.deepEqual([first.width, first.height], [width, height], `${format}: frame size`);
      const age = (nowT() - first.t) >>> 0;
      assert.ok(age < 5000, `${format}: stamp is ${age} ms old`);
      await waitFor(`${format}'s stamp to advance`, async () => {
        const later = await readStamp(page, video);
        return later && ((later.t - first.t) >>> 0) > 0 && ((later.t - first.t) >>> 0) < 60000;
      });

      // Which way the frames went, as the agent says (its start-up line, and the
      // encoder it announced to the relay), and what the answer names.
      const log = agent.output();
      const info = await camera(relay.port, format);
      const answer = await page.evaluate((c) => window.sightline.sessions.get(c).pc.remoteDescription.sdp, format);
      const plid = answer.match(/profile-level-id=([0-9a-f]{6})/)?.[1];
      assert.match(answer, /packetization-mode=1/);
      if (path === 'pass') {
        assert.match(log, /H264 via passthrough/, `${format}: passed through`);
        assert.equal(info.encoder, 'passthrough', `${format}: the encoder announced`);
        assert.match(log, /the camera's H.264 \(.*\): passed through/);
        // The camera's own profile reaches the browser: the stand-in's SPS, not ours.
        const profile = { 'h264-baseline': '42', 'h264-main': '4d', 'h264-high': '64' }[format];
        assert.equal(plid?.slice(0, 2), profile, `${format}: answered profile-level-id ${plid}`);
        assert.equal(plid, log.match(/profile-level-id ([0-9a-f]{6})\)/)?.[1], `${format}: the answer names the camera's SPS`);
      } else {
        assert.match(log, /H264 via x264enc/, `${format}: encoded by the agent`);
        assert.equal(info.encoder, 'x264enc');
        assert.equal(plid?.slice(0, 2), '42', `${format}: the agent's constrained baseline`);
      }
      const why = { 'h264-high-bframes': /has B-frames .*decoded and encoded again/,
        'h264-high422': /high 4:2:2 profile.*not one browsers decode: decoded and encoded again/,
        'h264-high10': /high 10 profile.*not one browsers decode: decoded and encoded again/ }[format];
      if (path === 'reencode') assert.match(log, why, `${format}: says why it encodes again`);
      else
        assert.doesNotMatch(log, /decoded and encoded again/);
      assert.deepEqual(page.errors, []);
      await page.closeAll();
    }

    // Safari and iPhones play inline and without a tap only a muted autoplaying
    // video marked playsinline: every video the pages make is so, as attributes.
    const grid = await browser.open(`${relay.url}/`);
    for (const [format] of formats) await tileState(grid, format, 'live');
    const view = await browser.open(`${relay.url}/view/${formats[0][0]}`);
    await tileState(view, formats[0][0], 'live');
    for (const page of [grid, view]) {
      const videos = await page.$$eval('video', (all) => all.map((v) => ({
        playsinline: v.hasAttribute('playsinline'), autoplay: v.hasAttribute('autoplay'),
        muted: v.hasAttribute('muted') && v.muted,
      })));
      assert.equal(videos.length, page === grid ? formats.length : 1);
      for (const v of videos) assert.deepEqual(v, { playsinline: true, autoplay: true, muted: true });
    }
  });
});

// `--check` says what the agent does with a camera's H.264, before anything runs.
test('--check says which camera H.264 passes and which is encoded again', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    const check = (format) => new Promise((resolve) => {
      execFile(paths.agent, ['--check', '--id', `check-${format}`, '--relay', `ws://127.0.0.1:${relay.port}`,
        '--source', `emulate:${format}`, '--width', '384', '--height', '216'], { timeout: 30000 },
      (error, stdout) => resolve({ status: error ? error.code : 0, stdout }));
    });
    const line = (out, label) => out.split('\n').find((l) => new RegExp(`^\\S+\\s+${label}\\s`).test(l)) || '';
    const bframes = await check('h264-high-bframes');
    assert.equal(bframes.status, 0, bframes.stdout);
    assert.match(line(bframes.stdout, 'h264'), /^ok\s+h264\s+the camera's H\.264 \(high profile.*has B-frames.*decoded and encoded again/);
    assert.match(line(bframes.stdout, 'encoder'), /x264enc/);
    const main = await check('h264-main');
    assert.equal(main.status, 0, main.stdout);
    assert.match(line(main.stdout, 'h264'), /\(main profile, .*\): passed through as it is/);
    assert.match(line(main.stdout, 'encoder'), /none: the camera's H\.264 is passed through/);
  });
});
