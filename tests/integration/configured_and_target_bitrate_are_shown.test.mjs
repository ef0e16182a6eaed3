// The camera's configured bitrate (the ceiling) and the one its encoder is asked
// for now reach GET /api/cameras, the page's camera events and the MQTT state,
// and follow set_video from HTTP and MQTT; on a link that carries everything
// (loopback) the encoder stays at the configured bitrate with a viewer watching,
// and the page's quality indicator says the camera's settings are the limit
// (docs/adaptation.md, "Reading the page's quality indicator").
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, postCommand, startAgent, startMosquitto, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { connectMqtt } from './lib/mqtt.mjs';

const quality = (cam) => `figure.tile[data-camera="${cam}"] .quality[data-quality-limit]`;

// The page's indicator: its limit and its text, or null while it has none.
const indicator = (page, cam) => page.evaluate((sel) => {
  const el = document.querySelector(sel);
  return el ? { limit: el.dataset.qualityLimit, text: el.textContent } : null;
}, quality(cam));

// The page's own copy of the camera's entry (the relay's camera events, merged).
const pageEntry = (page, cam) => page.evaluate((id) => {
  const c = window.sightline.camera(id);
  return c ? { configured: c.configured_kbps, target: c.target_kbps } : null;
}, cam);

test('configured and target bitrates reach the API, the page and MQTT, and follow set_video', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const broker = await startMosquitto(stack);
    const relay = await startRelay(stack, { args: ['--mqtt', broker.url] });
    await startAgent(stack, relay.port, 'cam', ['--mqtt', broker.url, '--width', '640', '--height', '480',
      '--bitrate', '1500', '--state-interval', '1']);
    const mqtt = await connectMqtt(broker.port);
    stack.onCleanup(() => mqtt.close());
    await mqtt.subscribe('sightline/cam/state');
    const state = () => mqtt.messages.filter((m) => m.topic === 'sightline/cam/state').at(-1)?.json();

    const both = async (kbps, what) => {
      await waitFor(`${what}: /api/cameras at ${kbps}/${kbps}`, async () => {
        const c = await camera(relay.port, 'cam');
        return c?.configured_kbps === kbps && c?.target_kbps === kbps;
      }, { timeout: 20000 });
      await waitFor(`${what}: the MQTT state at ${kbps}/${kbps}`, async () => {
        const s = state();
        return s?.configured_kbps === kbps && s?.target_kbps === kbps;
      }, { timeout: 20000 });
    };

    // Nobody watching: the encoder runs at the configured bitrate.
    await both(1500, 'before any viewer');

    // A viewer on loopback: its path carries everything, nothing changes.
    const browser = await startBrowser(stack);
    const page = await browser.open(`${relay.url}/`);
    await tileState(page, 'cam', 'live');
    await page.waitForSelector(quality('cam'), { timeout: 15000 });
    await waitFor('the indicator to say the camera\'s settings', async () =>
      (await indicator(page, 'cam'))?.limit === 'camera', { timeout: 20000 });
    const shown = await indicator(page, 'cam');
    assert.match(shown.text, /^480p · \d+ fps · \d+ kbit\/s — limited by the camera’s settings$/);
    await both(1500, 'one viewer on loopback');
    assert.ok((await camera(relay.port, 'cam')).bitrate_kbps > 0, 'the measured bitrate is listed beside them');
    // The page's own copy of the list (camera events over its WebSocket) carries them.
    await waitFor('the page\'s camera entry at 1500/1500', async () =>
      JSON.stringify(await pageEntry(page, 'cam')) === JSON.stringify({ configured: 1500, target: 1500 }));

    // A lower ceiling from HTTP: both follow at once.
    const lower = await postCommand(relay.port, 'cam', { type: 'set_video', params: { bitrate: 900 } });
    assert.equal(lower.ack.status, 'ok', JSON.stringify(lower.ack));
    await both(900, 'after set_video 900 over HTTP');
    await waitFor('the page\'s camera entry at 900/900', async () =>
      JSON.stringify(await pageEntry(page, 'cam')) === JSON.stringify({ configured: 900, target: 900 }));

    // A higher one over MQTT: the ceiling at once, the encoder up to it as the path allows.
    await mqtt.publish('sightline/cam/cmd', { id: 'up', type: 'set_video', params: { bitrate: 1200 },
      issued_at: Date.now(), ttl_ms: 10000 });
    await both(1200, 'after set_video 1200 over MQTT');
    await waitFor('the indicator to say the camera\'s settings again', async () =>
      (await indicator(page, 'cam'))?.limit === 'camera', { timeout: 20000 });
    assert.deepEqual(page.errors, []);
  });
});
