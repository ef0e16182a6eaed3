// `/`: every camera the relay knows, live.
import { startApp } from './app.js';

startApp({ container: document.getElementById('grid') });
