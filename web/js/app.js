// The pages' shared core: one relay connection, one CameraSession per tile,
// live figures from getStats, state changes told to screen readers (#announcer),
// and the hooks tests and benchmarks read (window.sightline, data-state on each
// tile, data-relay on <body>).

import { CameraSession, RelayConnection } from './signaling.js';
import { readStats } from './stats.js';
import { checkSession } from './auth.js';
import { Visibility } from './visibility.js';

const STATE_TEXT = { connecting: 'connecting…', live: 'live', offline: 'offline', error: 'error', paused: 'paused',
  refused: 'refused' };
// Said to screen readers when a tile comes to them (connecting and paused are not news).
const ANNOUNCED = new Set(['live', 'offline', 'error', 'refused']);

// `boot`: the view page's connection and its camera's session, started by view.html.
export function startApp({ container, boot = null }) {
  // One camera (the view page); the grid becomes that camera's view in place (focus below).
  let only = boot?.session.camera ?? null;
  const timing = boot?.timing || { start: performance.now() };
  const sessions = new Map();  // camera id -> CameraSession
  const stats = new Map();     // camera id -> latest figures
  const tiles = new Map();     // camera id -> tile elements
  window.sightline = { sessions, timing, stats, relayConnects: () => relay.connects || 0 };
  // Only what someone sees plays: grid tiles on screen, in a tab that is shown.
  const visibility = new Visibility((id) => {
    for (const session of sessions.values()) if (id === null || id === session.camera) apply(session);
  });

  const relay = boot?.relay || new RelayConnection();
  const announcer = makeAnnouncer();
  // The view page's camera: the session view.html started (under way, or playing), in a tile.
  if (boot) {
    const { session } = boot;
    const tile = makeTile(only, session.video);
    tiles.set(only, tile);
    container.append(tile.figure);
    session.onChange = (s) => render(s);
    session.wanted = () => visibility.wanted(only);
    sessions.set(only, session);
    render(session);
  }
  document.body.dataset.relay = relay.state;
  // In parallel with the socket: what our token allows (a sign-in field if nothing).
  checkSession().then((session) => {
    window.sightline.session = session;
    document.body.dataset.role = session?.role || 'none';
  });
  const banner = document.getElementById('banner');

  relay.addEventListener('open', () => { timing.wsOpen ??= performance.now(); });
  const relayState = (state) => {
    document.body.dataset.relay = state;
    banner.hidden = state !== 'reconnecting';
    if (state === 'reconnecting') {
      // The relay forgot our sessions; start over when it is back (a refused tile stays refused).
      for (const s of sessions.values()) if (s.state !== 'refused') { s.stop(); s.set('connecting'); }
    }
  };
  let lost = relay.state === 'reconnecting';
  relay.addEventListener('state', ({ detail }) => {
    relayState(detail.state);
    if (detail.state === 'reconnecting' && !lost) announcer.say('Connection to the relay lost; reconnecting.');
    if (detail.state === 'connected' && lost) announcer.say('Connection to the relay is back.');
    lost = detail.state === 'reconnecting' || (lost && detail.state !== 'connected');
  });
  // view.html's first script may have seen the socket drop before this page was here.
  if (relay.state === 'reconnecting') relayState(relay.state);
  relay.addEventListener('welcome', ({ detail }) => {
    timing.welcome ??= performance.now();
    update(detail.cameras);
  });
  relay.addEventListener('cameras', ({ detail }) => update(detail.cameras));
  relay.addEventListener('error', ({ detail }) => console.warn('relay error:', detail.code, detail.message));
  if (relay.cameras) update(relay.cameras);  // welcomed already (view.html)

  // The camera list changed (or the relay is new): add, start, stop tiles.
  // Sessions without a peer connection start (new tiles; all of them after the
  // relay came back), unless nobody sees them; a tile in 'error' retries by itself,
  // a refused one stays as it is.
  function update(cameras) {
    const list = only ? cameras.filter((c) => c.id === only) : cameras;
    if (only && list.length === 0) list.push({ id: only, online: false, unknown: true });
    for (const cam of list) {
      let tile = tiles.get(cam.id);
      if (!tile) {
        tile = makeTile(cam.id);
        tiles.set(cam.id, tile);
        container.append(tile.figure);
        const session = new CameraSession(relay, cam.id, tile.video, (s) => render(s),
          sessions.size === 0 ? timing : null);
        session.wanted = () => visibility.wanted(cam.id);
        sessions.set(cam.id, session);
        if (!only) visibility.watch(tile.figure);
      }
      tile.info = cam;
      const session = sessions.get(cam.id);
      if (session.state === 'refused') {
        render(session);
      } else if (!cam.online) {
        if (session.state !== 'offline') session.offline();
        else render(session);  // the reason may have changed
      } else if (!visibility.wanted(cam.id)) {
        apply(session);
      } else if (session.state === 'offline' || (!session.pc && session.state !== 'error')) {
        session.start();
      }
      renderInfo(tile, cam);
    }
    document.getElementById('empty').hidden = tiles.size > 0;
  }

  // A tile seen (again) plays at once; one nobody sees ends its session; one not
  // reported yet waits. A tile in 'error' retries by itself.
  function apply(session) {
    const online = tiles.get(session.camera)?.info?.online;
    if (!visibility.wanted(session.camera)) {
      const idle = ['paused', 'offline', 'refused'].includes(session.state) || visibility.pending(session.camera);
      if (!idle) session.pause();
    } else if (online && !session.pc && (session.state === 'paused' || session.state === 'connecting')) {
      session.start();
    }
  }

  function render(session) {
    const tile = tiles.get(session.camera);
    if (!tile) return;
    if (tile.figure.dataset.state !== session.state && ANNOUNCED.has(session.state)) {
      announcer.say(`${session.camera}: ${STATE_TEXT[session.state]}${session.message ? `. ${session.message}` : ''}`);
    }
    tile.figure.dataset.state = session.state;
    tile.state.textContent = STATE_TEXT[session.state];
    tile.state.className = `state ${session.state}`;
    tile.note.textContent = session.message || offlineReason(tile.info);
    tile.overlay.textContent = session.state === 'live' ? ''
      : session.state === 'offline' ? `${session.camera} is offline` : STATE_TEXT[session.state];
    if (session.state !== 'live') stats.delete(session.camera);
  }

  function renderInfo(tile, cam) {
    const parts = [];
    if (cam.width) parts.push(`${cam.width}×${cam.height}@${cam.fps}`);
    if (cam.codec) parts.push(cam.codec);
    if (cam.encoder) parts.push(cam.encoder);
    if (cam.online) parts.push(`${cam.viewers} watching`);
    tile.source.textContent = parts.join(' · ');
  }

  // From the grid, a camera opens in place: its tile keeps playing (same session,
  // nothing to negotiate), the other tiles stop, the address becomes /view/<id>
  // and the control panel loads. A click with a modifier (new tab or window)
  // follows the link as usual; Back reloads the grid.
  if (!only) {
    container.addEventListener('click', (event) => {
      const link = event.target.closest('a.name');
      if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      focus(link.closest('figure.tile').dataset.camera);
    });
  }

  function focus(id) {
    if (only) return;
    only = id;
    history.pushState({ camera: id }, '', `/view/${encodeURIComponent(id)}`);
    window.addEventListener('popstate', () => location.reload(), { once: true });
    for (const [other, session] of sessions) {
      const { figure } = tiles.get(other);
      if (other !== id) {
        session.forget();
        sessions.delete(other);
        stats.delete(other);
        figure.remove();
        tiles.delete(other);
      }
      visibility.forget(figure);  // the view plays whenever its tab is shown
    }
    document.title = `${id} · Sightline`;
    document.body.classList.add('single');
    container.classList.add('single');
    document.querySelector('header .hint').textContent = '← all cameras';
    document.getElementById('empty').hidden = true;
    const panel = document.createElement('section');
    panel.id = 'control';
    panel.className = 'control';
    panel.setAttribute('aria-label', 'camera control');
    container.after(panel);
    import('./control.js').then(({ startControlPanel }) => startControlPanel({ relay, camera: id, container: panel }));
  }

  // Live figures, once a second, for every tile that plays.
  const previous = new Map();
  setInterval(async () => {
    for (const [id, s] of sessions) {
      if (!s.pc || s.state !== 'live') continue;
      const figures = await readStats(s.pc, previous.get(id));
      previous.set(id, figures);
      stats.set(id, figures);
      const tile = tiles.get(id);
      if (tile) tile.figures.textContent = formatFigures(figures);
    }
  }, 1000);

  return { relay, sessions };
}

// One polite live region (#announcer): what changed since the last turn of the
// event loop, said in one go.
function makeAnnouncer() {
  const region = document.getElementById('announcer');
  let said = [];
  return {
    say(text) {
      if (!region) return;
      if (said.length === 0) queueMicrotask(() => { region.textContent = said.join(' '); said = []; });
      said.push(text);
    },
  };
}

function makeTile(id, video = document.createElement('video')) {
  const figure = document.createElement('figure');
  figure.className = 'tile';
  figure.dataset.camera = id;
  figure.dataset.state = 'connecting';
  const screen = document.createElement('div');
  screen.className = 'screen';
  const overlay = document.createElement('div');
  overlay.className = 'overlay';
  overlay.textContent = STATE_TEXT.connecting;
  video.removeAttribute('id');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  const caption = document.createElement('figcaption');
  const name = document.createElement('a');
  name.className = 'name';
  name.textContent = id;
  name.href = `/view/${encodeURIComponent(id)}`;
  const state = document.createElement('span');
  state.className = 'state connecting';
  state.textContent = STATE_TEXT.connecting;
  const source = document.createElement('span');
  source.className = 'source';
  const figures = document.createElement('div');
  figures.className = 'figures';
  const note = document.createElement('div');
  note.className = 'note';
  caption.append(name, state, source, figures, note);
  screen.append(video, overlay);
  figure.append(screen, caption);
  return { figure, video, overlay, state, source, figures, note, info: null };
}

// Why a camera the list shows offline is offline, when the list says.
function offlineReason(cam) {
  if (!cam || cam.online) return '';
  if (cam.unknown) return 'This relay has not seen this camera (yet).';
  if (cam.connected) {
    return 'Its agent is connected but the camera delivers no video (it failed or was unplugged); the agent keeps trying.';
  }
  return '';
}

function formatFigures(f) {
  const parts = [`${f.width}×${f.height}`, `${f.fps} fps`, `${f.kbps} kbit/s`, `loss ${f.lossPct}%`];
  if (f.rttMs !== null) parts.push(`rtt ${f.rttMs} ms`);
  if (f.codec) parts.push(f.codec);
  if (f.localType) parts.push(`${f.localType}/${f.remoteType}`);
  return parts.join(' · ');
}
