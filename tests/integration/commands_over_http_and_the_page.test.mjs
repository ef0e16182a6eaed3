// Commands from a script (POST /api/cameras/<id>/commands, GET snapshot.jpg)
// and from the control panel of /view/<id> in Chromium: every answer clear,
// every HTTP status right, every effect visible.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, freePort, postCommand, startAgent, startMosquitto, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { connectMqtt } from './lib/mqtt.mjs';
import { readStamp } from './lib/stamp.mjs';

test('the HTTP API runs every command type and maps failures to statuses', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const broker = await startMosquitto(stack);
    const relay = await startRelay(stack, { args: ['--mqtt', broker.url, '--command-timeout', '2'] });
    await startAgent(stack, relay.port, 'cam', ['--mqtt', broker.url, '--width', '640', '--height', '480',
      '--keyframe-interval', '60', '--state-interval', '1']);
    await waitFor('the camera state at the relay', async () => (await camera(relay.port, 'cam'))?.state?.online);

    const state = await postCommand(relay.port, 'cam', { type: 'get_state' });
    assert.equal(state.status, 200);
    assert.equal(state.ack.status, 'ok');
    assert.ok(state.ack.id, 'the relay names the command');
    assert.equal(state.ack.result.width, 640);

    const keyframe = await postCommand(relay.port, 'cam', { type: 'force_keyframe', params: {} });
    assert.equal(keyframe.status, 200);
    assert.ok(keyframe.ack.result.keyframes > state.ack.result.keyframes);

    const bitrate = await postCommand(relay.port, 'cam', { type: 'set_video', params: { bitrate: 700 } });
    assert.equal(bitrate.ack.status, 'ok');
    await waitFor('the camera list to show the new bitrate target',
      async () => (await camera(relay.port, 'cam')).state.bitrate_target_kbps === 700);

    const resized = await postCommand(relay.port, 'cam', { type: 'set_video', params: { width: 480, height: 360, fps: 15 } });
    assert.equal(resized.ack.status, 'ok', JSON.stringify(resized.ack));
    await waitFor('the camera list to show 480x360@15', async () => {
      const c = await camera(relay.port, 'cam');
      return c.width === 480 && c.height === 360 && c.state.fps_target === 15;
    });
    await waitFor('the measured rate to follow', async () => {
      const fps = (await camera(relay.port, 'cam')).state.fps;
      return fps > 10 && fps < 18;
    }, { timeout: 20000 });

    const snap = await postCommand(relay.port, 'cam', { type: 'snapshot' });
    assert.equal(snap.ack.status, 'ok');
    const latest = await fetch(`${relay.url}${snap.ack.result.url}`);
    assert.equal(latest.headers.get('content-type'), 'image/jpeg');
    assert.equal((await latest.arrayBuffer()).byteLength, snap.ack.result.bytes);
    const fresh = await fetch(`${relay.url}/api/cameras/cam/snapshot.jpg`);
    assert.equal(fresh.status, 200);
    const bytes = Buffer.from(await fresh.arrayBuffer());
    assert.equal(bytes.readUInt16BE(0), 0xffd8);

    const restart = await postCommand(relay.port, 'cam', { type: 'restart_pipeline' });
    assert.equal(restart.ack.status, 'ok', JSON.stringify(restart.ack));
    assert.equal(restart.ack.result.restarts, 1);

    const controls = await postCommand(relay.port, 'cam', { type: 'set_controls', params: { brightness: 1 } });
    assert.equal(controls.status, 200, 'the camera answered');
    assert.equal(controls.ack.code, 'unsupported');

    // The relay refuses what can never work, without bothering the camera.
    const bad = await postCommand(relay.port, 'cam', { type: 'set_video', params: { fps: 'fast' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.ack.code, 'bad_params');
    assert.equal(bad.ack.param, 'fps');
    assert.equal((await postCommand(relay.port, 'cam', { type: 'warp' })).ack.code, 'unknown_type');
    assert.equal((await postCommand(relay.port, 'cam', '{"type":')).status, 400);
    const unknown = await postCommand(relay.port, 'nobody', { type: 'get_state' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.ack.code, 'unknown_camera');
    assert.equal((await fetch(`${relay.url}/api/cameras/cam/commands`)).status, 405);

    // A camera known from its retained state whose agent is gone: no ack, 504.
    const mqtt = await connectMqtt(broker.port);
    await mqtt.publish('sightline/ghost/state', { camera: 'ghost', online: true, pipeline: 'playing', source: 'test',
      encoder: 'x264enc', codec: 'H264', width: 640, height: 480, fps: 30, fps_target: 30, bitrate_kbps: 0,
      bitrate_target_kbps: 2000, viewers: 0, uptime_s: 1, keyframes: 0, restarts: 0, controls: [], updated_at: Date.now() },
    { retain: true });
    await waitFor('the ghost camera listed', async () => (await camera(relay.port, 'ghost'))?.online);
    const silent = await postCommand(relay.port, 'ghost', { type: 'get_state' });
    assert.equal(silent.status, 504);
    assert.equal(silent.ack.code, 'timeout');
    await mqtt.publish('sightline/ghost/state', '', { retain: true });
    await mqtt.close();
  });
});

test('without a reachable broker, commands answer 503 and video still plays', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const nowhere = `tcp://127.0.0.1:${await freePort()}`;
    const relay = await startRelay(stack, { args: ['--mqtt', nowhere] });
    await startAgent(stack, relay.port, 'cam', ['--mqtt', nowhere, '--width', '640', '--height', '480', '--stamp']);
    const answer = await postCommand(relay.port, 'cam', { type: 'get_state' });
    assert.equal(answer.status, 503);
    assert.equal(answer.ack.code, 'unavailable');
    assert.match(answer.ack.message, /control plane unavailable/);
    const plain = await startRelay(stack, { name: 'relay without mqtt' });
    await startAgent(stack, plain.port, 'cam2', ['--width', '640', '--height', '480']);
    const none = await postCommand(plain.port, 'cam2', { type: 'get_state' });
    assert.equal(none.status, 503);
    assert.match(none.ack.message, /no MQTT broker configured/);

    const browser = await startBrowser(stack);
    const page = await browser.open(`${relay.url}/view/cam`);
    await tileState(page, 'cam', 'live');
    await waitFor('a stamp', async () => (await readStamp(page, 'figure.tile[data-camera="cam"] video'))?.width === 640);
    // The panel says so too.
    await page.click('form[data-command="force_keyframe"] button');
    await page.waitForSelector('#command-log li[data-status="error"][data-code="unavailable"]');
  });
});

test('the control panel sends commands and shows every answer', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const broker = await startMosquitto(stack);
    const relay = await startRelay(stack, { args: ['--mqtt', broker.url] });
    await startAgent(stack, relay.port, 'cam', ['--mqtt', broker.url, '--width', '800', '--height', '600', '--stamp',
      '--state-interval', '1']);
    const browser = await startBrowser(stack);
    const page = await browser.open(`${relay.url}/view/cam`);
    await tileState(page, 'cam', 'live');
    const video = 'figure.tile[data-camera="cam"] video';
    // The camera's state is shown.
    await page.waitForFunction(() => document.querySelector('.camera-state')?.textContent.includes('800×600'));

    // set_video from the form: the picture changes size on the same page.
    await page.fill('form[data-command="set_video"] input[name="width"]', '640');
    await page.fill('form[data-command="set_video"] input[name="height"]', '480');
    await page.click('form[data-command="set_video"] button');
    await page.waitForSelector('#command-log li[data-command="set_video"][data-status="ok"]');
    await waitFor('the page to decode 640x480', async () => (await readStamp(page, video))?.width === 640);
    await page.waitForFunction(() => document.querySelector('.camera-state')?.textContent.includes('640×480'));

    // An error is shown with its code and the parameter at fault.
    await page.fill('form[data-command="set_video"] input[name="width"]', '641');
    await page.click('form[data-command="set_video"] button');
    const error = await page.waitForSelector('#command-log li[data-command="set_video"][data-status="error"]');
    assert.equal(await error.getAttribute('data-code'), 'bad_params');
    assert.match(await error.textContent(), /width/);

    // The snapshot is shown once taken.
    await page.click('form[data-command="snapshot"] button');
    await page.waitForSelector('#command-log li[data-command="snapshot"][data-status="ok"]');
    await page.waitForFunction(() => {
      const img = document.getElementById('snapshot');
      return img && !img.hidden && img.complete && img.naturalWidth === 640;
    });

    for (const command of ['force_keyframe', 'restart_pipeline', 'get_state']) {
      await page.click(`form[data-command="${command}"] button`);
      await page.waitForSelector(`#command-log li[data-command="${command}"]:not([data-status="pending"])`);
    }
    await page.fill('form[data-command="set_controls"] input[name="controls"]', 'brightness=5');
    await page.click('form[data-command="set_controls"] button');
    await page.waitForSelector('#command-log li[data-command="set_controls"][data-code="unsupported"]');
    const log = await page.evaluate(() => window.sightline.control.log);
    assert.deepEqual(log.map((e) => [e.command, e.status]), [
      ['set_video', 'ok'], ['set_video', 'error'], ['snapshot', 'ok'], ['force_keyframe', 'ok'],
      ['restart_pipeline', 'ok'], ['get_state', 'ok'], ['set_controls', 'error']]);
    await tileState(page, 'cam', 'live');  // back after the restart
    assert.deepEqual(page.errors, []);
  });
});
