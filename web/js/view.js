// `/view/<camera-id>`: one camera, large.
import { startApp } from './app.js';

const id = decodeURIComponent(location.pathname.replace(/^\/view\//, '').replace(/\/$/, ''));
document.title = `${id} · Sightline`;
startApp({ container: document.getElementById('grid'), only: id });
