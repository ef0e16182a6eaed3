// The page's side of playing in step (web/js/sync.js), without a browser: the
// media clock read from the camera's answer, and a frame's capture time from its
// RTP timestamp (RFC 7273 direct clock: seconds since 1900 x rate, mod 2^32),
// across the timestamp's wrap (every ~13 h at 90 kHz) and for clocks a little apart.
import assert from 'node:assert/strict';
import test from 'node:test';
import { captureTimeMs, mediaClock } from '../../web/js/sync.js';

const NTP_UNIX_S = 2208988800;
const rtpOf = (unixMs, rate = 90000) => Math.round(((unixMs / 1000 + NTP_UNIX_S) * rate) % 2 ** 32);

const answer = (videoExtra, audioExtra = '') => [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 108', 'a=mid:0', 'a=rtpmap:108 H264/90000', ...videoExtra,
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:1', 'a=rtpmap:111 OPUS/48000/2', ...audioExtra, '',
].join('\r\n');

test('the media clock is read from the video section of the answer', () => {
  assert.deepEqual(mediaClock(answer(['a=ts-refclk:ntp=/traceable/', 'a=mediaclk:direct=0'])), { rate: 90000, offset: 0 });
  assert.deepEqual(mediaClock(answer(['a=ts-refclk:local', 'a=mediaclk:direct=12345'])), { rate: 90000, offset: 12345 });
  // Only the audio says it, or nobody does, or there is no answer: no clock.
  assert.equal(mediaClock(answer([], ['a=mediaclk:direct=0'])), null);
  assert.equal(mediaClock(answer([])), null);
  assert.equal(mediaClock(''), null);
  assert.equal(mediaClock(undefined), null);
});

test('a frame\'s capture time comes back from its RTP timestamp, across the wrap', () => {
  const clock = { rate: 90000, offset: 0 };
  const noon = Date.UTC(2026, 11, 5, 12);
  for (const captured of [noon, noon + 12345.678, noon + 47721.858833 * 1000 * 3 - 5]) {
    for (const shownAfter of [0, 40, 400, 3999]) {
      const got = captureTimeMs(rtpOf(captured), clock, captured + shownAfter);
      assert.ok(Math.abs(got - captured) < 0.1, `captured ${captured}, shown ${shownAfter} ms later: ${got}`);
    }
  }
  // Find the moments around a wrap of the 32-bit timestamp: a frame captured just
  // before it, shown just after, is still 30 ms old (not 13 hours).
  const period = (2 ** 32 / 90000) * 1000;
  const wrapAt = Math.ceil((noon / 1000 + NTP_UNIX_S) * 1000 / period) * period - NTP_UNIX_S * 1000;
  const before = wrapAt - 10;
  assert.ok(rtpOf(before) > 2 ** 32 - 2000 && rtpOf(wrapAt + 20) < 2000, 'the timestamp wraps there');
  assert.ok(Math.abs(captureTimeMs(rtpOf(before), clock, wrapAt + 20) - before) < 0.1);
  // A camera whose clock is a little ahead of the viewer's: a frame "from the future".
  assert.ok(Math.abs(captureTimeMs(rtpOf(noon + 80), clock, noon) - (noon + 80)) < 0.1);
  // Another rate and offset (RFC 7273 lets the offset be anything).
  const opus = { rate: 48000, offset: 1000 };
  const stamped = (rtpOf(noon, 48000) + 1000) % 2 ** 32;
  assert.ok(Math.abs(captureTimeMs(stamped, opus, noon + 250) - noon) < 0.1);
});
