// What a viewer's page receives on a shaped link, recorded in the page and
// reduced to figures (tests/integration/adapts_to_a_viewers_link.test.mjs and
// bench/shaped_link.mjs): the inbound video's getStats every 250 ms, and every
// presented frame with its LTS1 stamp latency (stamp.mjs).

export const SERVED_MS = 300;  // a frame shown within this of its capture is "served"
export const STALL_MS = 200;   // no new frame for longer: a stall

export const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))] : NaN;
};

// For startSampler: our page's session (window.sightline's once the page has
// loaded; before, the one view.html starts at once: on a thin link the rest of
// the page may take a while).
export const OUR_PAGE = `() => {
  const s = window.sightline?.sessions?.values().next().value;
  if (s?.pc) return { pc: s.pc, video: document.querySelector('figure.tile[data-camera="cam"] video') };
  return { pc: window.sightlineEarly?.prepared?.pc, video: document.getElementById('boot-video') };
}`;

// Runs in the receiving page. `find`: source of a function returning { video, pc }
// for what the page is playing now (a page may replace both when it starts a new
// session). Records into window.benchSampler until its stop() is called.
export function startSampler([findSrc, readerSrc]) {
  if (window.benchSampler) return;  // started already: recording on
  const find = new Function(`return (${findSrc})`)();
  const read = new Function(`return (${readerSrc})`)();
  const since = (at, t) => {
    let d = (Math.round(at) - t) % 4294967296;
    if (d < 0) d += 4294967296;
    return d > 2147483648 ? d - 4294967296 : d;
  };
  // libwebrtc lowers the resolution on a thin link: the stamp is read from the
  // frame scaled back to the sent 1280x720 (its 16x16 blocks' centres survive
  // down to about a quarter of that; a frame whose CRC fails is not counted).
  const canvas = document.createElement('canvas');
  canvas.width = 1280;
  canvas.height = 720;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const upscaled = (v) => { ctx.drawImage(v, 0, 0, 1280, 720); return canvas; };
  const rec = { stats: [], frames: [], sessions: 0 };
  let video = null, pc = null, base = null, last = null;
  const follow = (v) => {
    const onFrame = (now, meta) => {
      if (v !== video) return;
      // Wall clock at the display time (as bench/live_view.mjs takes it). The
      // <video> may already hold the next frame when read here, so a latency can
      // read up to a frame interval low: nothing at the scale measured here.
      const display = Date.now() - performance.now() + Math.max(meta.expectedDisplayTime, meta.presentationTime);
      const s = read(v.videoWidth === 1280 ? v : upscaled(v));
      rec.frames.push({ at: Math.round(display), latency: s ? since(display, s.t) : null });
      v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
  };
  const tick = async () => {
    const now = find();
    if (!now?.pc) return;
    if (now.video && now.video !== video) { video = now.video; follow(video); }
    if (now.pc !== pc) {
      // A new session counts from zero: carry the totals over.
      base = last ? { ...last } : { bytes: 0, freezes: 0, decoded: 0, lost: 0, received: 0, retransmitted: 0 };
      pc = now.pc;
      rec.sessions++;
    }
    const at = Date.now();
    for (const r of (await pc.getStats()).values()) {
      if (r.type !== 'inbound-rtp' || r.kind !== 'video') continue;
      last = {
        bytes: base.bytes + (r.bytesReceived || 0), freezes: base.freezes + (r.totalFreezesDuration || 0),
        decoded: base.decoded + (r.framesDecoded || 0), lost: base.lost + Math.max(0, r.packetsLost || 0),
        received: base.received + (r.packetsReceived || 0),
        retransmitted: base.retransmitted + (r.retransmittedBytesReceived || 0),
      };
      rec.stats.push({ at, ...last, height: r.frameHeight || 0 });
    }
  };
  const timer = setInterval(() => { tick().catch(() => {}); }, 250);
  window.benchSampler = {
    // What was recorded so far, recording on.
    read: () => ({ ...rec, stats: [...rec.stats], frames: [...rec.frames], pageLoaded: Boolean(window.sightline) }),
    stop: () => {
      clearInterval(timer);
      video = null;
      return { ...rec, pageLoaded: Boolean(window.sightline) };
    },
  };
}

// The figures of a window [t0, t1] (wall-clock ms) of a recording.
export function figures(rec, t0, t1) {
  const at = (t) => rec.stats.reduce((best, s) => (Math.abs(s.at - t) < Math.abs(best.at - t) ? s : best),
    rec.stats[0] || { at: t, bytes: 0, freezes: 0, decoded: 0, lost: 0, received: 0, retransmitted: 0 });
  const a = at(t0), b = at(t1);
  const seconds = Math.max(0.001, (b.at - a.at) / 1000);
  const shown = rec.frames.filter((f) => f.at >= t0 && f.at < t1);
  const latencies = shown.map((f) => f.latency).filter((l) => l !== null);
  // totalFreezesDuration only counts a freeze once a frame ends it: a picture that
  // stops for good shows none. The gaps between shown frames (the window's edges
  // included) say it too.
  let gap = 0, stalled = 0, prev = t0;
  for (const at of [...shown.map((f) => f.at), t1]) {
    gap = Math.max(gap, at - prev);
    if (at - prev > STALL_MS) stalled += at - prev;
    prev = at;
  }
  const lost = b.lost - a.lost, received = b.received - a.received;
  const heights = rec.stats.filter((s) => s.at >= t0 && s.at < t1 && s.height).map((s) => s.height);
  return {
    kbps: (b.bytes - a.bytes) * 8 / 1000 / seconds,
    freezeShare: (b.freezes - a.freezes) / seconds,
    fps: (b.decoded - a.decoded) / seconds,
    lostShare: lost + received > 0 ? lost / (lost + received) : 0,
    retransmittedShare: b.bytes > a.bytes ? (b.retransmitted - a.retransmitted) / (b.bytes - a.bytes) : 0,
    p50: pct(latencies, 50), p95: pct(latencies, 95),
    shown: shown.length, stamped: latencies.length, gap, stalledShare: stalled / (t1 - t0),
    height: heights.length ? pct(heights, 50) : 0,
  };
}

// Seconds from `from` until a 1 s window where `ok(figures)` holds and every
// frame shown in it was under SERVED_MS; null if not before `until`.
export function secondsUntil(rec, from, until, ok) {
  for (let t = from; t + 1000 <= until; t += 250) {
    const f = figures(rec, t, t + 1000);
    const served = f.stamped >= 5 && pct(rec.frames.filter((x) => x.at >= t && x.at < t + 1000 && x.latency !== null)
      .map((x) => x.latency), 100) < SERVED_MS;
    if (served && ok(f)) return (t - from) / 1000;
  }
  return null;
}
