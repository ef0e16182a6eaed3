// One agent, two cameras ([camera NAME] groups in its config file): one relay
// link and one MQTT session for both, each camera on its own page at its own
// size, with its own state topic and commands (through the shipped ACL). One
// camera's stream ends, as an unplugged camera's would: its page shows it
// offline and plays again by itself when the agent has it back, while the other
// camera's page plays on, its session untouched.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { Stack, camera, postCommand, startAgent, startMosquitto, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { connectMqtt } from './lib/mqtt.mjs';
import { nowT, readStamp } from './lib/stamp.mjs';

const users = { 'sightline-relay': 'relay-password-0001', house: 'house-password-0002' };

test('one agent serves several cameras; one failing does not disturb the other', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const broker = await startMosquitto(stack, { users, shipped: true });
    const login = (user) => ['--mqtt', broker.url, '--mqtt-user', user, '--mqtt-password', users[user]];
    const relay = await startRelay(stack, { args: login('sightline-relay') });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-cameras-'));
    stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const config = path.join(dir, 'agent.conf');
    // "back" ends after 12 s of frames (as if unplugged), and again 12 s after each restart.
    fs.writeFileSync(config, ['[agent]', 'stamp = true', '', '[camera front]', 'pattern = smpte', 'width = 640',
      'height = 480', '', '[camera back]', 'pattern = ball', 'width = 480', 'height = 360', 'test-frames = 360', ''].join('\n'));
    const agent = await startAgent(stack, relay.port, 'house', ['--config', config, '--state-interval', '1', ...login('house')],
      { wait: false });
    for (const id of ['house/front', 'house/back'])
      await waitFor(`camera ${id} connected`, async () => (await camera(relay.port, id))?.connected);

    const browser = await startBrowser(stack);
    const front = await browser.open(`${relay.url}/view/${encodeURIComponent('house/front')}`);
    const back = await browser.open(`${relay.url}/view/house/back`);  // the slash as it is works too
    const video = (cam) => `figure.tile[data-camera="${cam}"] video`;
    const stampOf = async (page, cam) => waitFor(`a stamp from ${cam}`, () => readStamp(page, video(cam)));
    for (const [page, cam, size] of [[front, 'house/front', [640, 480]], [back, 'house/back', [480, 360]]]) {
      await tileState(page, cam, 'live');
      const stamp = await stampOf(page, cam);
      assert.deepEqual([stamp.width, stamp.height], size, `${cam} frame size`);
      assert.ok(((nowT() - stamp.t) >>> 0) < 5000, `${cam}: the stamp is recent`);
    }
    const frontStarts = () => (agent.output().match(/started for camera house\/front /g) ?? []).length;
    assert.equal(frontStarts(), 1);

    // Each camera's state on its own topic, the device's listing both; commands
    // reach the camera named, over MQTT and through the relay.
    const mqtt = await connectMqtt(broker.port, { username: 'sightline-relay', password: users['sightline-relay'] });
    stack.onCleanup(() => mqtt.close());
    await mqtt.subscribe('sightline/+/state');
    await mqtt.subscribe('sightline/+/+/state');
    await mqtt.subscribe('sightline/+/+/ack');
    for (const cam of ['house/front', 'house/back']) {
      const state = await mqtt.waitFor((m) => m.topic === `sightline/${cam}/state` && m.json().online);
      assert.equal(state.json().camera, cam);
    }
    const device = await mqtt.waitFor((m) => m.topic === 'sightline/house/state');
    assert.deepEqual(device.json().cameras, ['house/front', 'house/back']);
    assert.equal(device.json().online, true);
    await mqtt.publish('sightline/house/front/cmd', { id: 'q1', type: 'get_state', issued_at: Date.now(), ttl_ms: 10000 });
    const ack = await mqtt.waitFor((m) => m.topic === 'sightline/house/front/ack' && m.json().id === 'q1');
    assert.equal(ack.json().status, 'ok');
    assert.equal(ack.json().camera, 'house/front');
    assert.equal(ack.json().result.width, 640);
    const viaRelay = await postCommand(relay.port, 'house/back', { type: 'get_state' });
    assert.equal(viaRelay.status, 200, JSON.stringify(viaRelay.ack));
    assert.equal(viaRelay.ack.camera, 'house/back');
    assert.equal(viaRelay.ack.result.width, 480);

    // "back" stops: offline on its page and in the list; "front" plays on.
    await tileState(back, 'house/back', 'offline', 20000);
    assert.equal((await camera(relay.port, 'house/back')).online, false);
    assert.equal((await camera(relay.port, 'house/front')).online, true);
    assert.equal(await front.getAttribute(`figure.tile[data-camera="house/front"]`, 'data-state'), 'live');
    const during = await stampOf(front, 'house/front');
    await waitFor('front to keep playing while back is down', async () => {
      const later = await readStamp(front, video('house/front'));
      return later && ((later.t - during.t) >>> 0) > 500 && ((later.t - during.t) >>> 0) < 60000;
    });
    // "back" returns by itself (the agent restarts it) and its page plays again, without a reload.
    await tileState(back, 'house/back', 'live', 20000);
    const again = await stampOf(back, 'house/back');
    assert.ok(((nowT() - again.t) >>> 0) < 5000, 'back: the stamp is recent again');
    assert.match(agent.output(), /camera house\/back stopped: the source ended its stream/);
    // Front's one session went on throughout: never ended, never started again.
    assert.equal(frontStarts(), 1);
    assert.doesNotMatch(agent.output(), /camera house\/front stopped/);
    for (const page of [front, back]) {
      assert.deepEqual(page.errors, []);
      assert.equal(await page.evaluate(() => window.sightline.relayConnects()), 1);
    }
  });
});
