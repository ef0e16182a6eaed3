// Sound and picture in step: a camera whose frames carry the LTS1 stamp (the
// wall-clock time each frame was captured) and whose sound carries the audio mark
// (a beep that starts at every whole second of the same clock:
// docs/latency-stamp.md). In the page, each frame the video element presents is
// read at its display time, and each beep's onset where WebAudio plays it, both
// on one clock: how late the picture is shown and how late the sound is played,
// after capture. Chromium plays the two in step (RTCP sender reports of both
// streams from one pipeline clock, one media stream, the picture allowed to wait
// for the sound); they must stay within 80 ms. Measured once (the load suite):
// under the sanitizers it would measure them.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Stack, startAgent, startRelay, waitFor } from './lib/harness.mjs';
import { startBrowser, tileState } from './lib/browser.mjs';
import { readStampInPage } from './lib/stamp.mjs';

const kMeasureMs = 8000;

// { video: [delay ms per frame], audio: [delay ms per beep] }, measured in the page.
const delays = (page, id, stampReader) => page.evaluate(async ([id, reader, ms]) => {
  const readStamp = (0, eval)(`(${reader})`);
  const video = document.querySelector(`figure.tile[data-camera="${id}"] video`);
  const wall = (perf) => performance.timeOrigin + perf;
  const since = (wallMs, t) => ((Math.floor(wallMs) % 4294967296) - t + 4294967296) % 4294967296;
  const result = { video: [], audio: [] };

  // Sound: a worklet reports each onset (loud after 300 ms of quiet) by its frame.
  const ctx = new AudioContext();
  const code = `registerProcessor('onsets', class extends AudioWorkletProcessor {
    constructor() { super(); this.quiet = 0; }
    process(inputs) {
      const samples = inputs[0] && inputs[0][0];
      if (samples) for (let i = 0; i < samples.length; i++) {
        if (Math.abs(samples[i]) > 0.05) {
          if (this.quiet > 0.3 * sampleRate) this.port.postMessage(currentFrame + i);
          this.quiet = 0;
        } else this.quiet++;
      }
      return true;
    }
  });`;
  await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
  const node = new AudioWorkletNode(ctx, 'onsets');
  node.port.onmessage = (event) => {
    // The onset's place on the output clock, then on the page's clock.
    const { contextTime, performanceTime } = ctx.getOutputTimestamp();
    const at = wall(performanceTime + (event.data / ctx.sampleRate - contextTime) * 1000);
    result.audio.push(at - Math.floor(at / 1000) * 1000);  // the beep started on a whole second
  };
  const source = ctx.createMediaStreamSource(video.srcObject);
  source.connect(node);
  node.connect(ctx.destination);

  // Picture: every frame presented, read at the time it is shown.
  let done = false;
  const onFrame = (now, meta) => {
    const stamp = readStamp(video);
    if (stamp) result.video.push(since(wall(meta.expectedDisplayTime), stamp.t));
    if (!done) video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  await new Promise((resolve) => setTimeout(resolve, ms));
  done = true;
  source.disconnect();
  await ctx.close();
  return result;
}, [id, stampReader, kMeasureMs]);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

test('sound and picture play within 80 ms of each other', async () => {
  const stack = new Stack();
  await stack.run(async () => {
    const relay = await startRelay(stack);
    await startAgent(stack, relay.port, 'lips', ['--width', '640', '--height', '480', '--audio', 'test', '--stamp']);
    const browser = await startBrowser(stack);
    const page = await browser.open(`${relay.url}/view/lips`);
    await tileState(page, 'lips', 'live');
    await page.click('figure.tile[data-camera="lips"] button.sound');
    // Both tracks of the answer in one media stream: what makes a browser sync them.
    const sdp = await page.evaluate(() => window.sightline.sessions.get('lips').pc.remoteDescription.sdp);
    // (webrtcbin writes it per SSRC: a=ssrc:N msid:STREAM TRACK.)
    const streams = sdp.split(/\r\n(?=m=)/).slice(1).map((m) => [...m.matchAll(/^a=(?:ssrc:\d+ )?msid:(\S+) /gm)]
      .map((x) => x[1]));
    assert.equal(streams.length, 2, `video and sound in the answer:\n${sdp}`);
    assert.ok(streams.every((ids) => ids.length > 0), `a stream id for each track:\n${sdp}`);
    assert.equal(new Set(streams.flat()).size, 1, `video and sound in the same stream:\n${sdp}`);
    // Sound flowing; then time for the browser to bring the two in step.
    await waitFor('sound packets', () => page.evaluate(async () => {
      let n = 0;
      (await window.sightline.sessions.get('lips').pc.getStats())
        .forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') n = s.packetsReceived; });
      return n > 100;
    }));
    // Chromium's synchronizer moves the picture's delay by steps, each second or two.
    await new Promise((resolve) => setTimeout(resolve, 15000));
    const measured = await delays(page, 'lips', readStampInPage.toString());
    const video = median(measured.video), audio = median(measured.audio);
    console.log(`frames ${measured.video.length}, beeps ${measured.audio.length}; picture shown ${video.toFixed(1)} ms ` +
      `after capture, sound played ${audio.toFixed(1)} ms after; sound - picture ${(audio - video).toFixed(1)} ms ` +
      `(beeps: ${measured.audio.map((d) => d.toFixed(0)).join(' ')})`);
    assert.ok(measured.video.length > 100, `frames read: ${measured.video.length}`);
    assert.ok(measured.audio.length >= 5, `beeps heard: ${measured.audio.length}`);
    assert.ok(video > 0 && video < 1000, `picture delay ${video}`);
    assert.ok(Math.abs(audio - video) < 80, `sound ${audio.toFixed(1)} ms vs picture ${video.toFixed(1)} ms`);
    assert.deepEqual(page.errors, []);
  });
});
