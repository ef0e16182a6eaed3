// `/view/<camera-id>`'s first script, loaded alone (with js/signaling.js,
// js/session.js and js/auth.js): opens the socket to the relay and starts the
// camera's session in #boot-video at once. Only when its first frame is shown (or
// at once, should anything else happen: an error, the camera offline, the socket
// lost; at the latest after LOAD_BY_MS) does the rest of the page load (js/view.js:
// the tile, figures, controls), and it goes on with this connection and session.
// Loading the rest while negotiating made a fresh tab's first frame ~100 ms later
// on a 2-core machine: the renderer's one main thread does both (docs/architecture.md).

import { RelayConnection } from './signaling.js';
import { CameraSession } from './session.js';

const LOAD_BY_MS = 1500;

const ran = performance.now();
const camera = decodeURIComponent(location.pathname.replace(/^\/view\//, '').replace(/\/$/, ''));
const timing = { start: ran, boot: ran };
const relay = new RelayConnection();
relay.addEventListener('open', () => { timing.wsOpen ??= performance.now(); }, { once: true });
relay.addEventListener('welcome', () => { timing.welcome ??= performance.now(); }, { once: true });
relay.addEventListener('state', () => { if (relay.state !== 'connected') loadPage(); });
const session = new CameraSession(relay, camera, document.getElementById('boot-video'),
  () => { if (session.state !== 'connecting') loadPage(); }, timing);
session.start();
setTimeout(loadPage, LOAD_BY_MS);

let loading = null;
function loadPage() {
  loading ??= import('./view.js').then(({ startView }) => startView({ relay, session, timing }));
}
