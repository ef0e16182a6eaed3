// `/view/<camera-id>`: one camera, large, with its control panel.
import { startApp } from './app.js';
import { startControlPanel } from './control.js';

const id = decodeURIComponent(location.pathname.replace(/^\/view\//, '').replace(/\/$/, ''));
document.title = `${id} · Sightline`;
const { relay } = startApp({ container: document.getElementById('grid'), only: id });
startControlPanel({ relay, camera: id, container: document.getElementById('control') });
