// A camera crossing the `auto` fan-out threshold while pages watch it
// (docs/fanout.md): the relay starts a worker, moves the pages to it, and they
// keep playing without a reload; the camera then sends one stream whatever the
// number of viewers; a WHEP player joining then is served through the relay too.
// When everyone leaves, the worker stops.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { soundOf, startBrowser, tileState } from './lib/browser.mjs';
import { readStamp } from './lib/stamp.mjs';
import { playWhep, playerPage } from './lib/whep_player.mjs';

const video = 'figure.tile[data-camera="cam"] video';

// The page's stamp moves on (new frames decoded) within `ms`.
async function advances(page, what, ms = 5000) {
  const a = await waitFor(`${what}: a stamp`, () => readStamp(page, video));
  await waitFor(`${what}: the stamp to advance`, async () => {
    const b = await readStamp(page, video);
    return b && b.t !== a.t;
  }, { timeout: ms });
}

const workers = async (port) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(text.match(/^sightline_fanout_workers (\d+)/m)?.[1]);
};

test('a camera crossing the fan-out threshold keeps its pages playing', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack, { args: ['--fanout', 'auto', '--fanout-viewers', '3',
      '--fanout-ice-address', '127.0.0.1', '--fanout-idle', '2'] });
    await startAgent(stack, relay.port, 'cam', ['--width', '640', '--height', '480', '--stamp']);
    const browser = await startBrowser(stack);
    const pages = [];
    for (let i = 0; i < 2; i++) {
      pages.push(await browser.open(`${relay.url}/view/cam`));
      await tileState(pages[i], 'cam', 'live');
    }
    // Two viewers: direct, two branches in the camera's agent, no worker.
    await waitFor('2 branches', async () => (await camera(relay.port, 'cam')).branches === 2);
    assert.equal((await camera(relay.port, 'cam')).fanout, 'direct');
    assert.equal(await workers(relay.port), 0);
    for (const page of pages) await page.evaluate(() => { window.notReloaded = true; });

    // The third: the relay fans out.
    pages.push(await browser.open(`${relay.url}/view/cam`));
    await tileState(pages[2], 'cam', 'live');
    const relayed = await waitFor('the camera to be served through the relay', async () => {
      const c = await camera(relay.port, 'cam');
      return c.fanout === 'relay' && c.branches === 1 && c.relay_branches === 3 && c.viewers === 3 ? c : null;
    }, { timeout: 30000 });
    assert.equal(relayed.online, true);
    assert.equal(await workers(relay.port), 1);
    assert.match(relay.proc.output(), /camera cam: 3 viewers, fanning out through the relay/);
    // Every page plays on, in the same document and on its one relay connection.
    for (const [i, page] of pages.entries()) {
      await tileState(page, 'cam', 'live');
      await advances(page, `page ${i}`);
      if (i < 2) assert.equal(await page.evaluate(() => window.notReloaded), true, `page ${i} was reloaded`);
      assert.equal(await page.evaluate(() => window.sightline.relayConnects()), 1);
      assert.deepEqual(page.errors, []);
    }
    // A fourth viewer costs the camera nothing more.
    pages.push(await browser.open(`${relay.url}/view/cam`));
    await tileState(pages[3], 'cam', 'live');
    await advances(pages[3], 'page 3');
    await waitFor('4 forwarding branches', async () => (await camera(relay.port, 'cam')).relay_branches === 4);
    assert.equal((await camera(relay.port, 'cam')).branches, 1);
    // A standard WHEP player joining now is served through the relay too.
    const player = await playerPage(browser, relay.url);
    await playWhep(player, `${relay.url}/whep/cam`);
    const played = await waitFor('the camera\'s stamp in the WHEP player', () => readStamp(player, 'video'),
      { timeout: 20000 });
    assert.deepEqual([played.width, played.height], [640, 480]);
    await waitFor('5 forwarding branches', async () => (await camera(relay.port, 'cam')).relay_branches === 5);
    assert.equal((await camera(relay.port, 'cam')).branches, 1);
    await player.evaluate(() => window.player.stop());  // DELETE
    await waitFor('the player\'s forwarding freed', async () => (await camera(relay.port, 'cam')).relay_branches === 4);
    await player.closeAll();

    // Everyone leaves: the forwarding is freed, then the worker stops, and the camera sends nothing.
    for (const page of pages) await page.closeAll();
    await waitFor('no forwarding branch', async () => (await camera(relay.port, 'cam')).relay_branches === 0,
      { timeout: 20000 });
    await waitFor('the worker to stop', async () => (await workers(relay.port)) === 0, { timeout: 20000 });
    await waitFor('the camera to send nothing', async () => (await camera(relay.port, 'cam')).branches === 0,
      { timeout: 20000 });
    assert.match(relay.proc.output(), /fan-out worker _fanout\.1 stopped: nobody watches through it/);
    assert.doesNotMatch(relay.proc.output(), /worker .* ended: /, 'the worker ended only when asked to');
  });
});

// A camera with sound, fanned out: the worker takes its sound too, and the pages
// watching through the relay hear it (the tone's energy grows) while the camera
// still sends one stream. (A camera with a speaker stays direct in auto: an
// operator's voice cannot go back through a worker; unit test `fanout`.)
test('a camera with sound is fanned out with its sound', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack, { args: ['--fanout', 'auto', '--fanout-viewers', '2',
      '--fanout-ice-address', '127.0.0.1'] });
    await startAgent(stack, relay.port, 'loud', ['--width', '320', '--height', '240', '--audio', 'test']);
    assert.equal((await camera(relay.port, 'loud')).audio, 'OPUS');
    const browser = await startBrowser(stack);
    const pages = [];
    for (let i = 0; i < 2; i++) {
      pages.push(await browser.open(`${relay.url}/view/loud`));
      await tileState(pages[i], 'loud', 'live');
    }
    await waitFor('the camera served through the relay', async () => {
      const c = await camera(relay.port, 'loud');
      return c.fanout === 'relay' && c.relay_branches === 2 && c.branches === 1;
    }, { timeout: 30000 });
    for (const page of pages) {
      await tileState(page, 'loud', 'live', 20000);
      // Heard once unmuted (a browser computes no energy for a muted element).
      const button = 'figure.tile[data-camera="loud"] button.sound';
      await page.waitForSelector(`${button}:not([hidden])`);
      await page.click(button);
      const first = await waitFor('sound through the relay', async () => {
        const s = await soundOf(page, 'loud');
        return s && s.packets > 20 && s.energy > 0 ? s : null;
      }, { timeout: 15000 });
      await waitFor('the sound to go on', async () => {
        const s = await soundOf(page, 'loud');
        return s && s.packets > first.packets + 50 && s.energy > first.energy;
      }, { timeout: 10000 });
    }
  });
});

// Viewers joining a fanned-out camera start at once: each one's keyframe request
// goes through the worker to the camera, whose next scheduled keyframe is half a
// minute away here. (The camera's agent limits one viewer's requests to one per
// keyframe interval past its first; the worker's are its viewers', not limited.)
test('pages joining a fanned-out camera get a keyframe from the camera at once', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack, { args: ['--fanout', 'relay', '--fanout-ice-address', '127.0.0.1'] });
    await startAgent(stack, relay.port, 'cam', ['--width', '320', '--height', '240', '--keyframe-interval', '30']);
    const browser = await startBrowser(stack);
    const first = await browser.open(`${relay.url}/view/cam`);
    await tileState(first, 'cam', 'live', 20000);
    await waitFor('through the relay', async () => (await camera(relay.port, 'cam')).relay_branches === 1);
    for (let i = 0; i < 3; i++) {
      const page = await browser.open(`${relay.url}/view/cam`);
      await tileState(page, 'cam', 'live', 8000);
      await page.closeAll();
    }
  });
});
