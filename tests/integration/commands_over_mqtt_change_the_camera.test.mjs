// Every command type sent over MQTT (as Node-RED, Home Assistant or
// mosquitto_pub would), answered on the ack topic, with its effect checked on
// the picture a browser decodes or on the figures the camera publishes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import test from 'node:test';
import { Stack, startAgent, startMosquitto, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { connectMqtt } from './lib/mqtt.mjs';
import { readStamp } from './lib/stamp.mjs';

// The size in a JPEG's first SOF marker.
function jpegSize(buf) {
  assert.equal(buf.readUInt16BE(0), 0xffd8, 'JPEG magic');
  for (let i = 2; i + 9 < buf.length;) {
    const marker = buf.readUInt16BE(i);
    if (marker >= 0xffc0 && marker <= 0xffc3) return [buf.readUInt16BE(i + 7), buf.readUInt16BE(i + 5)];
    i += 2 + buf.readUInt16BE(i + 2);
  }
  throw new Error('no SOF marker');
}

test('commands over MQTT: each type answered once, with its effect', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const broker = await startMosquitto(stack);
    const relay = await startRelay(stack, { args: ['--mqtt', broker.url] });
    // Keyframes only when asked for (every 60 s otherwise), so a forced one shows.
    await startAgent(stack, relay.port, 'cam', ['--mqtt', broker.url, '--width', '800', '--height', '600', '--stamp',
      '--keyframe-interval', '60', '--state-interval', '1']);
    const mqtt = await connectMqtt(broker.port);
    stack.onCleanup(() => mqtt.close());
    await mqtt.subscribe('sightline/cam/#');
    const latestState = () => mqtt.messages.filter((m) => m.topic === 'sightline/cam/state').at(-1)?.json();
    let n = 0;
    const command = async (type, params, extra = {}) => {
      const id = extra.id ?? `t${++n}`;
      const sent = mqtt.messages.length;
      await mqtt.publish('sightline/cam/cmd', { id, type, params, issued_at: Date.now(), ttl_ms: 10000, ...extra });
      const ack = await mqtt.waitFor((m, i) => m.topic === 'sightline/cam/ack' && m.json().id === id &&
        mqtt.messages.indexOf(m) >= sent, { what: `the ack of ${type} ${id}`, timeout: 15000 });
      return ack.json();
    };

    const browser = await startBrowser(stack);
    const page = await browser.open(`${relay.url}/view/cam`);
    await tileState(page, 'cam', 'live');
    const video = 'figure.tile[data-camera="cam"] video';
    await waitFor('an 800x600 stamp', async () => (await readStamp(page, video))?.width === 800);
    const session = await page.evaluate(() => window.sightline.sessions.get('cam').session);

    // get_state: the state as published.
    const state = await command('get_state', {});
    assert.equal(state.status, 'ok');
    assert.equal(state.camera, 'cam');
    assert.equal(state.result.width, 800);
    assert.equal(state.result.viewers, 1);

    // force_keyframe: one more keyframe out of the encoder.
    const before = (await command('get_state', {})).result.keyframes;
    const keyframe = await command('force_keyframe', {});
    assert.equal(keyframe.status, 'ok');
    assert.ok(keyframe.result.keyframes > before, `keyframes ${before} -> ${keyframe.result.keyframes}`);

    // set_video bitrate: applied live, the viewer keeps its session, the figures follow.
    const bitrate = await command('set_video', { bitrate: 300 });
    assert.equal(bitrate.status, 'ok');
    assert.equal(bitrate.result.bitrate, 300);
    await waitFor('the measured bitrate to drop under 600 kbit/s', () => {
      const s = latestState();
      return s.bitrate_target_kbps === 300 && s.bitrate_kbps > 0 && s.bitrate_kbps < 600;
    }, { timeout: 20000 });

    // set_video size: the same page, the same session, now decodes 640x480.
    const resized = await command('set_video', { width: 640, height: 480, bitrate: 1000 });
    assert.equal(resized.status, 'ok', JSON.stringify(resized));
    assert.deepEqual([resized.result.width, resized.result.height], [640, 480]);
    await waitFor('the page to decode 640x480', async () => {
      const stamp = await readStamp(page, video);
      return stamp?.width === 640 && stamp.height === 480;
    });
    assert.equal(await page.evaluate(() => window.sightline.sessions.get('cam').session), session, 'same session');
    await waitFor('the camera list to say 640x480', async () => {
      const cams = (await (await fetch(`${relay.url}/api/cameras`)).json()).cameras;
      return cams[0].width === 640 && cams[0].state?.width === 640;
    });

    // snapshot: a JPEG of the current picture on the snapshot topic, and at the url of the ack.
    const snap = await command('snapshot', {});
    assert.equal(snap.status, 'ok', JSON.stringify(snap));
    const picture = await mqtt.waitFor((m) => m.topic === 'sightline/cam/snapshot', { what: 'the snapshot' });
    assert.deepEqual(jpegSize(picture.payload), [640, 480]);
    assert.equal(snap.result.bytes, picture.payload.length);
    const fetched = Buffer.from(await (await fetch(relay.url + snap.result.url)).arrayBuffer());
    assert.deepEqual(jpegSize(fetched), [640, 480]);

    // restart_pipeline: restarted once, and the page plays again by itself.
    const stampBefore = await readStamp(page, video);
    const restart = await command('restart_pipeline', {}, { id: 'restart-1' });
    assert.equal(restart.status, 'ok', JSON.stringify(restart));
    assert.equal(restart.result.restarts, 1);
    await waitFor('a newer picture after the restart', async () => {
      const s = await readStamp(page, video);
      return s && ((s.t - stampBefore.t) >>> 0) > 0 && ((s.t - stampBefore.t) >>> 0) < 60000 &&
        (await page.$eval('figure.tile[data-camera="cam"]', (f) => f.dataset.state)) === 'live';
    }, { timeout: 20000 });

    // The same id again: the first ack, not a second restart.
    const again = await command('restart_pipeline', {}, { id: 'restart-1' });
    assert.deepEqual(again, restart);
    assert.equal((await command('get_state', {})).result.restarts, 1);

    // Too old: answered expired, not run.
    const expired = await command('restart_pipeline', {}, { issued_at: Date.now() - 60000, ttl_ms: 1000 });
    assert.equal(expired.code, 'expired');
    assert.equal((await command('get_state', {})).result.restarts, 1);

    // Errors, each with its machine-readable code.
    const unknown = await command('self_destruct', {});
    assert.equal(unknown.status, 'error');
    assert.equal(unknown.code, 'unknown_type');
    const bad = await command('set_video', { width: 641, height: 480 });
    assert.equal(bad.code, 'bad_params');
    assert.equal(bad.param, 'width');
    const tooSmall = await command('set_video', { width: 320, height: 240 });
    assert.equal(tooSmall.code, 'unsupported', 'the stamp needs 384 pixels');
    const controls = await command('set_controls', { brightness: 10 });
    assert.equal(controls.code, 'unsupported');
    assert.equal(controls.param, 'brightness');

    // Any MQTT client: mosquitto_pub with no id, no issued_at.
    const acks = mqtt.messages.length;
    execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-t', 'sightline/cam/cmd',
      '-m', '{"type":"get_state"}']);
    const anon = await mqtt.waitFor((m) => m.topic === 'sightline/cam/ack' && mqtt.messages.indexOf(m) >= acks &&
      m.json().type === 'get_state', { what: "mosquitto_pub's ack" });
    assert.equal(anon.json().status, 'ok');
    assert.ok(anon.json().id, 'the agent names an anonymous command');

    // Exactly one ack per id over the whole test, except the deliberate repeat.
    const ids = mqtt.messages.filter((m) => m.topic === 'sightline/cam/ack').map((m) => m.json().id);
    const counts = {};
    for (const id of ids) counts[id] = (counts[id] ?? 0) + 1;
    for (const [id, count] of Object.entries(counts)) assert.equal(count, id === 'restart-1' ? 2 : 1, `acks for ${id}`);
    assert.deepEqual(page.errors, []);
  });
});
