// An IP camera's own sound (--audio camera): RTSP test cameras (gst-rtsp-server,
// tests/tools/rtsp_test_camera.cpp) send a tone as G.711 A-law or AAC with
// their video; the agent decodes it and sends it once as Opus, so the page gets
// an Opus track beside the live video and decodes sound, not silence. A camera
// without sound but --audio camera plays video only, and the agent says why; one
// down when its agent starts gets its sound once it is up.
// The sound's pad coming and going between connections leaves the video
// playing: the camera restarted without sound plays again by itself.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { Stack, camera, freePort, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { soundOf, startBrowser, tileState } from './lib/browser.mjs';
import { checkLine, playsLive, rtspCameraBinary, runAgent, startRtspCamera } from './lib/rtsp_camera.mjs';
import { nowT, readStamp } from './lib/stamp.mjs';


// Unmuted, the page decodes the camera's tone: energy grows, the level is above silence.
async function hearsSound(page, id) {
  const tile = `figure.tile[data-camera="${id}"]`;
  const button = `${tile} button.sound`;
  await page.waitForSelector(`${button}:not([hidden])`);
  await page.click(button);
  assert.equal(await page.$eval(`${tile} video`, (v) => v.muted), false);
  const first = await waitFor(`sound packets from ${id}`, async () => {
    const s = await soundOf(page, id);
    return s && s.packets > 50 ? s : null;
  }, { timeout: 20000 });
  const louder = await waitFor(`${id}'s sound above silence`, async () => {
    const s = await soundOf(page, id);
    return s && s.energy > first.energy + 0.01 && s.level > 0.05 ? s : null;
  }, { timeout: 20000 });
  assert.ok(louder.level < 1, `${id}: level ${louder.level}`);
}

test('ip camera sound', async () => {
  assert.ok(
      fs.existsSync(rtspCameraBinary),
      `${rtspCameraBinary} is missing: install libgstrtspserver-1.0-dev (scripts/setup.sh) and build again`);
  const stack = new Stack();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-rtsp-sound-'));
  stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const credentials = path.join(dir, 'camera.credentials');
  fs.writeFileSync(credentials, 'viewer:c4m-s3cret\n', { mode: 0o600 });

  await stack.run(async () => {
    const relay = await startRelay(stack);
    const video = ['--codec', 'h264', '--width', '640', '--height', '360', '--fps', '30'];
    const [pcmaPort, aacPort, quietPort, mutePort, latePort] =
        [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    let pcma = await startRtspCamera(stack, 'rtsp pcma', pcmaPort, credentials, [...video, '--audio', 'pcma']);
    const muteServer = await startRtspCamera(stack, 'rtsp pcma unheard', mutePort, credentials, [...video, '--audio', 'pcma']);
    await startRtspCamera(stack, 'rtsp aac', aacPort, credentials, [...video, '--audio', 'aac']);
    await startRtspCamera(stack, 'rtsp quiet', quietPort, credentials, video);
    const source = (port) => ['--source', `rtsp://127.0.0.1:${port}/cam`, '--rtsp-credentials-file', credentials];

    // audio=camera needs an IP camera: refused plainly before anything starts.
    const local = await runAgent(['--id', 'cam-x', '--relay', `ws://127.0.0.1:${relay.port}`, '--audio', 'camera']);
    assert.equal(local.status, 2, local.out);
    assert.match(local.out, /'audio' camera .*needs an rtsp:\/\/ or whep: source/);

    // --check says what the camera's sound is and what is done with it.
    const check = (port) => runAgent(['--check', '--id', 'cam-check', '--relay', `ws://127.0.0.1:${relay.port}`,
      '--audio', 'camera', ...source(port)]);
    const [checkPcma, checkAac, checkQuiet] = await Promise.all([check(pcmaPort), check(aacPort), check(quietPort)]);
    assert.match(checkLine(checkPcma.out, 'sound'), /^ok .*PCMA sound, decoded and sent as Opus/, checkPcma.out);
    assert.match(checkLine(checkAac.out, 'sound'), /^ok .*MPEG4-GENERIC sound, decoded and sent as Opus/, checkAac.out);
    assert.match(checkLine(checkQuiet.out, 'sound'), /^-\s.*sends no sound .*video only/, checkQuiet.out);
    assert.equal(checkQuiet.status, 0, checkQuiet.out);

    const loud = await startAgent(stack, relay.port, 'cam-pcma', [...source(pcmaPort), '--audio', 'camera']);
    await startAgent(stack, relay.port, 'cam-aac', [...source(aacPort), '--audio', 'camera']);
    const quiet = await startAgent(stack, relay.port, 'cam-quiet', [...source(quietPort), '--audio', 'camera']);
    // A camera's sound not asked for is not taken: no sound in its CameraInfo,
    // and the camera is never asked to set it up (its stream=1), so it does not send it.
    await startAgent(stack, relay.port, 'cam-mute', source(mutePort));
    assert.equal((await camera(relay.port, 'cam-pcma')).audio, 'OPUS');
    assert.equal((await camera(relay.port, 'cam-aac')).audio, 'OPUS');
    assert.equal((await camera(relay.port, 'cam-quiet')).audio, undefined);
    assert.equal((await camera(relay.port, 'cam-mute')).audio, undefined);
    await waitFor('cam-mute playing', async () => (await camera(relay.port, 'cam-mute')).fps_measured > 0);
    assert.match(muteServer.output(), /setup rtsp:\/\/\S+\/stream=0/);
    assert.doesNotMatch(muteServer.output(), /setup \S+\/stream=1/);
    assert.match(pcma.output(), /setup rtsp:\/\/\S+\/stream=1/, 'cam-pcma asks for the sound');
    assert.match(quiet.output(), /camera cam-quiet: the camera sends no sound \(audio = camera\): video only/);
    // The camera's H.264 still passes through: only the sound is decoded and encoded.
    assert.match(loud.output(), /H\.264 constrained-baseline is passed through/);

    // A camera still down when its agent starts: its sound is promised (decoded
    // by decodebin, whatever it turns out to be) and arrives once it is up.
    const late = await startAgent(stack, relay.port, 'cam-late', [...source(latePort), '--audio', 'camera']);
    assert.match(late.output(), /camera cam-late: the camera's sound is not known until it answers/);
    assert.equal((await camera(relay.port, 'cam-late')).audio, 'OPUS');
    await startRtspCamera(stack, 'rtsp late', latePort, credentials, [...video, '--audio', 'pcmu']);

    const browser = await startBrowser(stack);
    const pagePcma = await browser.open(`${relay.url}/view/cam-pcma`);
    const pageAac = await browser.open(`${relay.url}/view/cam-aac`);
    await playsLive(pagePcma, 'cam-pcma', { timeout: 30000 });
    await hearsSound(pagePcma, 'cam-pcma');
    await playsLive(pageAac, 'cam-aac', { timeout: 30000 });
    await hearsSound(pageAac, 'cam-aac');
    await playsLive(pagePcma, 'cam-pcma', { timeout: 30000 });  // the video played on while the sound was measured
    await waitFor('cam-late online with frames', async () => {
      const c = await camera(relay.port, 'cam-late');
      return c.online && c.fps_measured > 0;
    }, { timeout: 30000 });
    const pageLate = await browser.open(`${relay.url}/view/cam-late`);
    await playsLive(pageLate, 'cam-late', { timeout: 30000 });
    await hearsSound(pageLate, 'cam-late');
    await pageLate.close();
    await late.stop();

    // Without sound: video only, no unmute button, no sound packets.
    const pageQuiet = await browser.open(`${relay.url}/view/cam-quiet`);
    await playsLive(pageQuiet, 'cam-quiet', { timeout: 30000 });
    assert.equal(await pageQuiet.$eval('figure.tile[data-camera="cam-quiet"] button.sound', (b) => b.hidden), true);
    const none = await soundOf(pageQuiet, 'cam-quiet');
    assert.ok(!none || none.packets === 0, `no sound packets from a camera without sound (${JSON.stringify(none)})`);

    // The camera comes back without its sound, then with it: the video plays
    // again each time by itself (the sound's chain waits idle meanwhile).
    await stack.kill(pcma);
    await tileState(pagePcma, 'cam-pcma', 'offline');
    pcma = await startRtspCamera(stack, 'rtsp pcma silent', pcmaPort, credentials, video);
    await playsLive(pagePcma, 'cam-pcma', { timeout: 30000 });
    await stack.kill(pcma);
    await tileState(pagePcma, 'cam-pcma', 'offline');
    await startRtspCamera(stack, 'rtsp pcma again', pcmaPort, credentials, [...video, '--audio', 'pcma']);
    await playsLive(pagePcma, 'cam-pcma', { timeout: 30000 });
    await waitFor('sound again after the restart', async () => {
      const s = await soundOf(pagePcma, 'cam-pcma');
      return s && s.packets > 50 && s.level > 0.05;
    }, { timeout: 20000 });
    for (const page of [pagePcma, pageAac, pageQuiet]) assert.deepEqual(page.errors, []);
  });
});
