// Reads what a <video> shows: the LTS1 stamp (docs/latency-stamp.md), the
// frame size, and the colour at a point, from a canvas copy of the current frame.

// Runs in the page. `from`: a <video> selector, a VideoFrame or a canvas. Returns
// { t, s, width, height } or null when no valid stamp.
export function readStampInPage(from) {
  const video = typeof from === 'string' ? document.querySelector(from) : from;
  const width = video?.videoWidth ?? video?.displayWidth ?? video?.width;
  const height = video?.videoHeight ?? video?.displayHeight ?? video?.height;
  if (!width) return null;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(video, 0, 0);
  const px = ctx.getImageData(0, 0, Math.min(384, canvas.width), Math.min(32, canvas.height)).data;
  const w = Math.min(384, canvas.width);
  const level = [];
  for (let k = 0; k < 48; k++) {
    const bx = 16 * (k % 24) + 4;
    const by = 16 * Math.floor(k / 24) + 4;
    let sum = 0;
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const i = ((by + y) * w + bx + x) * 4;
        sum += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
      }
    }
    level.push(sum / 64);
  }
  if (level[0] - level[1] < 64) return null;
  const threshold = (level[0] + level[1]) / 2;
  const bit = (k) => (level[k] > threshold ? 1 : 0);
  let t = 0;
  for (let i = 0; i < 32; i++) t = (t * 2 + bit(2 + i)) >>> 0;
  let s = 0;
  for (let i = 0; i < 6; i++) s = s * 2 + bit(34 + i);
  let crc = 0;
  for (let i = 0; i < 8; i++) crc = crc * 2 + bit(40 + i);
  const bytes = [(t >>> 24) & 255, (t >>> 16) & 255, (t >>> 8) & 255, t & 255, s];
  let c = 0;
  for (const b of bytes) {
    c ^= b;
    for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 255 : (c << 1) & 255;
  }
  if (c !== crc) return null;
  return { t, s, width, height };
}

export async function readStamp(page, selector) {
  return page.evaluate(readStampInPage, selector);
}

// The average colour of a 16x16 area of the current frame, at fractions of its size.
export async function colourAt(page, selector, fx, fy) {
  return page.evaluate(([sel, x, y]) => {
    const video = document.querySelector(sel);
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(video, 0, 0);
    const d = ctx.getImageData(Math.floor(x * canvas.width) - 8, Math.floor(y * canvas.height) - 8, 16, 16).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) { sum[0] += d[i]; sum[1] += d[i + 1]; sum[2] += d[i + 2]; }
    return sum.map((v) => Math.round(v / (d.length / 4)));
  }, [selector, fx, fy]);
}

// Wall-clock ms mod 2^32, as the stamp's T.
export function nowT() {
  return Number(BigInt(Date.now()) % 4294967296n);
}
