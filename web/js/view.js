// `/view/<camera-id>`: one camera, large, with its control panel. Loaded by
// view.html's first script, which has the camera's session under way (or playing).
import { startApp } from './app.js';
import { startControlPanel } from './control.js';

export function startView(boot) {
  const id = boot.session.camera;
  document.title = `${id} · Sightline`;
  const { relay } = startApp({ container: document.getElementById('grid'), boot });
  startControlPanel({ relay, camera: id, container: document.getElementById('control') });
}
