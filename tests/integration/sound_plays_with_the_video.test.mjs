// A camera with sound (--audio test: a 440 Hz tone standing in for a microphone,
// since these machines have no sound card): the page gets an Opus track in the
// same session as the video, muted until the viewer unmutes it, and what it
// decodes is sound, not silence. Talk-back: the operator presses talk, Chromium's
// fake microphone (a beep) goes to the camera's speaker (--speaker test: a level
// meter standing in for one), which hears sound, not silence. A camera without
// sound in the same browser: video only, no unmute or talk button.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, camera, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { soundOf, startBrowser, tileState } from './lib/browser.mjs';

test('sound plays with the video, muted until asked', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    const loud = await startAgent(stack, relay.port, 'loud',
      ['--width', '640', '--height', '480', '--audio', 'test', '--speaker', 'test']);
    await startAgent(stack, relay.port, 'quiet', ['--width', '640', '--height', '480']);
    assert.equal((await camera(relay.port, 'loud')).audio, 'OPUS');
    assert.equal((await camera(relay.port, 'quiet')).audio, undefined);

    const browser = await startBrowser(stack,
      { args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'] });
    const page = await browser.open(`${relay.url}/view/loud`);
    await tileState(page, 'loud', 'live');
    const tile = 'figure.tile[data-camera="loud"]';
    // Muted at first, with the way to hear it in sight.
    assert.equal(await page.$eval(`${tile} video`, (v) => v.muted), true);
    const button = `${tile} button.sound`;
    await page.waitForSelector(`${button}:not([hidden])`);
    assert.match(await page.textContent(button), /unmute/);
    // The session carries both: one peer connection, a video and an audio track.
    const kinds = await page.evaluate(() => window.sightline.sessions.get('loud').video.srcObject.getTracks()
      .map((t) => t.kind).sort());
    assert.deepEqual(kinds, ['audio', 'video']);
    const sdp = await page.evaluate(() => window.sightline.sessions.get('loud').pc.remoteDescription.sdp);
    assert.match(sdp, /m=audio [1-9]\d* .*\r\n(?:.*\r\n)*?a=rtpmap:\d+ OPUS\/48000\/2/i);
    // Sound both ways: this page may talk back (--insecure-dev makes everyone an admin).
    assert.match(sdp, /m=audio (?:.*\r\n)*?a=sendrecv/);

    await page.click(button);
    assert.equal(await page.$eval(`${tile} video`, (v) => v.muted), false);
    assert.match(await page.textContent(button), /mute/);
    // Sound, not silence: the decoded energy grows (a tone at 0.3 of full scale).
    const first = await waitFor('sound packets', async () => {
      const s = await soundOf(page, 'loud');
      return s && s.packets > 50 ? s : null;
    });
    const louder = await waitFor('decoded sound above silence', async () => {
      const s = await soundOf(page, 'loud');
      return s && s.energy > first.energy + 0.01 && s.level > 0.05 ? s : null;
    });
    assert.ok(louder.level < 1, `level ${louder.level}`);

    // Talk-back: nothing reaches the speaker before talk is pressed; then the
    // microphone's sound does (the meter's peak, logged each second, above silence).
    assert.equal((await camera(relay.port, 'loud')).talk, true);
    const talk = `${tile} button.talk`;
    await page.waitForSelector(`${talk}:not([hidden])`);
    assert.doesNotMatch(loud.output(), /talk-back \(/);
    await page.click(talk);
    await page.waitForSelector(`${talk}[aria-pressed="true"]`);
    const heard = await waitFor('the camera to hear the viewer', () => {
      const peaks = [...loud.output().matchAll(/talk-back \(\w+\) peak (-?[\d.]+|-inf) dBFS/g)].map((m) => Number(m[1]));
      return peaks.find((db) => db > -40) !== undefined ? peaks : null;
    });
    assert.ok(heard.length >= 1);
    await page.click(talk);  // and off again
    await page.waitForSelector(`${talk}[aria-pressed="false"]`);

    // The camera without sound: video only, no button.
    const other = await browser.open(`${relay.url}/view/quiet`);
    await tileState(other, 'quiet', 'live');
    assert.equal(await other.$eval('figure.tile[data-camera="quiet"] button.sound', (b) => b.hidden), true);
    assert.equal(await other.$eval('figure.tile[data-camera="quiet"] button.talk', (b) => b.hidden), true);
    const quiet = await soundOf(other, 'quiet');
    assert.ok(!quiet || quiet.packets === 0, `no sound packets from a camera without sound (${JSON.stringify(quiet)})`);
    for (const p of [page, other]) assert.deepEqual(p.errors, []);
  });
});
