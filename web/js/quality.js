// The quality a tile receives and what limits it (docs/adaptation.md, "Reading the
// page's quality indicator"): from the page's own figures (getStats, stats.js)
// and the camera's, as the relay lists them (configured_kbps: the ceiling,
// target_kbps: what the encoder is asked for now, bitrate_kbps: what it produced).
//
//   viewer  : this page receives clearly less than the camera sends (under 80% of
//             it over the last WINDOW seconds), or its picture froze, or it lost
//             more than 2% of the packets in that time;
//   network : otherwise, the encoder is asked for less than 90% of its configured
//             bitrate: it follows the best of its viewers' paths, so even the best
//             path (and the camera's uplink, which they all share) carries less;
//   camera  : otherwise: what is received is what the camera's settings make.
//
// A tile that receives the camera's lower encoding (lower_height and lower_kbps in
// the list: the camera makes one, at half its size, for viewers whose paths carry
// clearly less than the best one's) is judged against that encoding's bitrate,
// and says so: its connection is what limits it.

const WINDOW = 5;            // seconds of figures judged (one sample a second)
const MIN_SAMPLES = 4;       // fewer (3 rates): too early to say the viewer's link is short
const VIEWER_SHARE = 0.8;    // received / sent under this: your connection
const NETWORK_SHARE = 0.9;   // target / configured under this: the network
const LOSS_PCT = 2;
const FREEZE_S = 0.2;        // freeze time added within the window

export const LIMIT_TEXT = {
  viewer: 'your connection',
  network: 'the network (the camera’s uplink or its viewers’ paths)',
  camera: 'the camera’s settings',
};

// Keeps the last WINDOW samples of one tile's figures.
export class QualityHistory {
  constructor() { this.samples = []; }
  add(figures) {
    this.samples.push(figures);
    if (this.samples.length > WINDOW + 1) this.samples.shift();
  }
}

// { limit: 'viewer'|'network'|'camera', text, detail } for a tile's latest
// figures; null before the first received rate (the second sample).
export function judgeQuality(cam, history) {
  const samples = history.samples;
  const now = samples[samples.length - 1];
  const first = samples[0];
  const rates = samples.slice(1).map((s) => s.kbps);
  if (rates.length === 0) return null;
  const received = rates.reduce((a, b) => a + b, 0) / rates.length;
  const lowerHeight = Number(cam?.lower_height) || 0;
  const onLower = lowerHeight > 0 && now.height > 0 && now.height <= lowerHeight
    && now.height < (Number(cam?.height) || Infinity);
  const sent = onLower ? Number(cam.lower_kbps) || 0 : Number(cam?.bitrate_kbps) || 0;
  const configured = Number(cam?.configured_kbps) || 0;
  const target = Number(cam?.target_kbps) || 0;
  const freezes = (now.freezeS ?? 0) - (first.freezeS ?? 0);
  const lost = now.packetsLost - first.packetsLost;
  const got = (now.packetsReceived ?? 0) - (first.packetsReceived ?? 0);
  const lossPct = lost > 0 && got + lost > 0 ? (100 * lost) / (got + lost) : 0;

  let limit = 'camera';
  if (onLower) {
    limit = 'viewer';
  } else if (samples.length >= MIN_SAMPLES
      && ((sent > 0 && received < VIEWER_SHARE * sent) || freezes > FREEZE_S || lossPct > LOSS_PCT)) {
    limit = 'viewer';
  } else if (configured > 0 && target > 0 && target < NETWORK_SHARE * configured) {
    limit = 'network';
  }
  const size = now.height ? `${now.height}p${onLower ? ' (lower encoding)' : ''}` : '';
  const parts = [size, `${now.fps} fps`, `${Math.round(received)} kbit/s`].filter(Boolean);
  const why = [];
  if (configured) why.push(`camera set to ${configured} kbit/s`);
  if (target && target !== configured) why.push(`adapted to ${target}`);
  if (onLower) why.push(`its lower encoding for paths like yours: ${cam.lower_width}x${lowerHeight} at ${cam.lower_kbps}`);
  else if (sent) why.push(`sends ${Math.round(sent)}`);
  why.push(`you receive ${Math.round(received)}`);
  if (lossPct) why.push(`loss ${lossPct.toFixed(1)}%`);
  if (freezes > 0) why.push(`froze ${freezes.toFixed(1)} s`);
  return {
    limit, encoding: onLower ? 'lower' : 'full',
    text: `${parts.join(' · ')} — limited by ${LIMIT_TEXT[limit]}`, detail: why.join(', '),
  };
}
