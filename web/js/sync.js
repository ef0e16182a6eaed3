// Viewers in step (docs/playback-sync.md): with the page's "in step" on, every
// tile shows the frame captured `delay` ms ago, the same delay on every page of
// the relay (its welcome's sync_delay_ms), so every viewer of a camera, and every
// tile of the grid, shows what was captured at the same moment.
//
// The camera's RTP timestamps are its wall-clock capture times (RFC 7273: the
// answer's a=mediaclk:direct, agent/capture/media_clock.hpp), so each frame the
// <video> presents (requestVideoFrameCallback: its rtpTimestamp and display time)
// says how long after its capture it is shown. Once a second the receiver's
// jitterBufferTarget moves by part of the difference to the delay wanted (the
// browser then moves its playout gradually: no jump, no skipped frame). The
// playout-delay header extension is left out of the offer: it asks the browser
// to play at once, which would override the target. The clocks of the camera
// and the viewer are taken to be NTP-synced, as phones and PCs are.
import { SYNC_KEY } from './signaling.js';

const NTP_UNIX_S = 2208988800;  // seconds from 1900 to 1970
const WRAP = 2 ** 32;
const GAIN = 0.5;        // of the difference, each second: the browser moves at ~100 ms/s itself
const DEADBAND_MS = 6;   // closer than this: left alone (a 60 Hz display shows at 16.7 ms steps)
const MAX_TARGET_MS = 4000;
const MIN_FRAMES = 5;    // a second with fewer frames says too little

// The viewer's choice, kept for the next visit (read by signaling.js's syncWanted).
export function setSyncWanted(on) {
  try { localStorage.setItem(SYNC_KEY, on ? '1' : '0'); } catch { /* private mode: this page only */ }
}

// The video's media clock from the answer: { rate, offset } when its RTP
// timestamps are on the wall clock (a=mediaclk:direct=N), else null.
export function mediaClock(sdp) {
  const video = (sdp || '').split(/\r?\n(?=m=)/).find((s) => s.startsWith('m=video'));
  const direct = video && /^a=mediaclk:direct=(\d+)/m.exec(video);
  const rate = video && /^a=rtpmap:\d+ [\w-]+\/(\d+)/m.exec(video);
  return direct && rate ? { rate: Number(rate[1]), offset: Number(direct[1]) } : null;
}

// The capture time (Unix ms, on this page's clock) of the frame with RTP
// timestamp `rtp`: the one nearest `nowMs` (timestamps wrap every ~13 h at 90 kHz).
export function captureTimeMs(rtp, clock, nowMs) {
  const ticks = ((nowMs / 1000 + NTP_UNIX_S) * clock.rate + clock.offset) % WRAP;
  let behind = (ticks - rtp) % WRAP;
  if (behind < 0) behind += WRAP;
  if (behind > WRAP / 2) behind -= WRAP;
  return nowMs - (behind / clock.rate) * 1000;
}

// The mean of the middle half: display steps average out, a stray frame does not count.
const middleMean = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.slice(Math.floor(s.length / 4), Math.ceil((3 * s.length) / 4));
  return mid.reduce((a, b) => a + b, 0) / mid.length;
};

// Keeps one session's video at `delayMs()` from capture to display. `state`:
// { clock (the answer said its media clock), control (the browser has
// jitterBufferTarget), latencyMs (the last second's typical delay), targetMs (the
// receiver's jitterBufferTarget), late (the path alone takes longer than wanted) }.
export class PlayoutSync {
  // `answer`: the answer's SDP as the camera sent it.
  constructor(pc, answer, video, delayMs) {
    this.pc = pc;
    this.video = video;
    this.delayMs = delayMs;
    this.clock = mediaClock(answer);
    // A browser without jitterBufferTarget (the playout control) cannot hold the picture back.
    const control = typeof RTCRtpReceiver !== 'undefined' && 'jitterBufferTarget' in RTCRtpReceiver.prototype;
    this.state = { clock: Boolean(this.clock), control, latencyMs: null, targetMs: 0, late: false };
    this.samples = [];
    this.stopped = false;
    if (!this.clock || !control || !('requestVideoFrameCallback' in video)) return;
    const onFrame = (now, meta) => {
      if (this.stopped) return;
      if (meta.rtpTimestamp !== undefined) {
        const wall = performance.timeOrigin + (meta.expectedDisplayTime ?? now);
        this.samples.push(wall - captureTimeMs(meta.rtpTimestamp, this.clock, wall));
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    this.timer = setInterval(() => this.adjust(), 1000);
  }

  adjust() {
    const receiver = this.pc.getReceivers().find((r) => r.track.kind === 'video');
    const samples = this.samples;
    this.samples = [];
    if (!receiver || samples.length < MIN_FRAMES) return;
    const latency = middleMean(samples);
    const wanted = this.delayMs();
    const current = receiver.jitterBufferTarget ?? 0;
    this.state.latencyMs = Math.round(latency);
    const error = wanted - latency;
    // Already holding nothing back and still later than wanted: the path is too slow for this delay.
    this.state.late = current === 0 && error < -2 * DEADBAND_MS;
    if (Math.abs(error) > DEADBAND_MS) {
      const next = Math.min(MAX_TARGET_MS, Math.max(0, current + GAIN * error));
      // The sound follows the picture: the browser keeps them together by itself.
      receiver.jitterBufferTarget = Math.round(next);
    }
    this.state.targetMs = receiver.jitterBufferTarget ?? 0;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
