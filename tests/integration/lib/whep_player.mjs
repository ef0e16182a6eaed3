// A standard WHEP player in a page: the npm package whip-whep's WHEPClient (not
// written here), loaded as the module it is into a page of the relay's origin.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const whepClient = fs.readFileSync(path.join(here, '../node_modules/whip-whep/whep.js'), 'utf8');

export async function playerPage(browser, relayUrl) {
  const page = await browser.open(`${relayUrl}/whep-player`);
  await page.addScriptTag({ type: 'module', content: `${whepClient}\nwindow.WHEPClient = WHEPClient;` });
  await page.waitForFunction(() => typeof window.WHEPClient === 'function');
  return page;
}

// Plays `url` (POST /whep/<camera>) with `token` in a <video> of the page;
// window.player is the client (its stop() DELETEs the session).
export async function playWhep(page, url, token) {
  await page.evaluate(async ([u, t]) => {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    document.body.append(video);
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.ontrack = (e) => { video.srcObject = new MediaStream([e.track]); };
    window.player = new window.WHEPClient();
    await window.player.view(pc, u, t);
  }, [url, token]);
}
