// One agent, two cameras, one of them a V4L2 device that is not plugged in when
// the agent starts: the agent starts anyway, the other camera plays, the
// missing one is listed offline with the reason naming its device and retried
// with backoff, commands to it say why they cannot act, and --check fails
// naming it. (An agent with only that camera still stops: bad_settings_stop_startup.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { Stack, camera, paths, postCommand, startAgent, startMosquitto, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { nowT, readStamp } from './lib/stamp.mjs';

// A device node no machine running these tests has.
const missing = '/dev/video-sightline-missing';

test('a camera missing at start-up is retried while the others play', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    assert.ok(!fs.existsSync(missing));
    const broker = await startMosquitto(stack);
    const relay = await startRelay(stack, { args: ['--mqtt', broker.url] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-missing-'));
    stack.onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const config = path.join(dir, 'agent.conf');
    fs.writeFileSync(config, ['[camera front]', 'stamp = true', 'width = 640', 'height = 480', '',
      '[camera garage]', `source = v4l2:${missing}`, 'width = 640', 'height = 480', ''].join('\n'));
    const agent = await startAgent(stack, relay.port, 'house', ['--config', config, '--mqtt', broker.url],
      { wait: false });

    // Both listed: the missing one connected (its agent is) but not online, with why.
    await waitFor('front online', async () => (await camera(relay.port, 'house/front'))?.online);
    const garage = await waitFor('garage listed with its error',
      async () => { const c = await camera(relay.port, 'house/garage'); return c?.error ? c : null; });
    assert.equal(garage.connected, true);
    assert.equal(garage.online, false);
    assert.match(garage.error, new RegExp(`${missing}: no such device`));

    // The other camera plays in the browser; the missing one's page says why it is offline.
    const browser = await startBrowser(stack);
    const front = await browser.open(`${relay.url}/view/house/front`);
    await tileState(front, 'house/front', 'live');
    const stamp = await waitFor('a stamp from front', () => readStamp(front, 'figure.tile[data-camera="house/front"] video'));
    assert.deepEqual([stamp.width, stamp.height], [640, 480]);
    assert.ok(((nowT() - stamp.t) >>> 0) < 5000, 'the stamp is recent');
    const page = await browser.open(`${relay.url}/view/house/garage`);
    await tileState(page, 'house/garage', 'offline');
    await waitFor('the tile names the device',
      async () => (await page.textContent('figure.tile[data-camera="house/garage"]')).includes(missing));

    // Retried with backoff; said once at start-up what happens meanwhile.
    await waitFor('a second retry', async () => /camera house\/garage: retrying in [\d.]+ s \(attempt 2\)/.test(agent.output()),
      { timeout: 20000 });
    assert.match(agent.output(), /camera house\/garage: still failing: Cannot open camera \/dev\/video-sightline-missing: no such device/);
    assert.match(agent.output(), /camera house\/garage: .*keeps retrying it; until the agent is restarted with the camera present/);

    // Commands to it: a clear refusal, not a wait; and its state still answers.
    const keyframe = await postCommand(relay.port, 'house/garage', { type: 'force_keyframe' });
    assert.equal(keyframe.ack.status, 'error', JSON.stringify(keyframe.ack));
    assert.equal(keyframe.ack.code, 'failed');
    assert.match(keyframe.ack.message, new RegExp(`delivers no video .*${missing}`));
    assert.ok(keyframe.ms < 2500, `refused at once (${keyframe.ms} ms)`);
    const resize = await postCommand(relay.port, 'house/garage', { type: 'set_video', params: { width: 320, height: 240 } });
    assert.equal(resize.ack.code, 'failed', JSON.stringify(resize.ack));
    const state = await postCommand(relay.port, 'house/garage', { type: 'get_state' });
    assert.equal(state.ack.status, 'ok', JSON.stringify(state.ack));
    assert.equal(state.ack.result.pipeline, 'failed');
    assert.match(state.ack.result.error, new RegExp(`${missing}: no such device`));

    // The front camera was never disturbed.
    assert.equal((await camera(relay.port, 'house/front')).online, true);
    assert.doesNotMatch(agent.output(), /camera house\/front stopped/);
    assert.deepEqual(front.errors, []);

    // --check fails, naming the missing device.
    const check = spawnSync(paths.agent, ['--config', config, '--id', 'house', '--relay', `ws://127.0.0.1:${relay.port}`,
      '--check'], { encoding: 'utf8', timeout: 30000 });
    assert.equal(check.status, 1, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`FAIL\\s+camera\\s+source=v4l2:${missing}: Cannot open camera ${missing}: no such device`));
  });
});
