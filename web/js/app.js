// The pages' shared core: one relay connection, one CameraSession per tile,
// live figures from getStats and what limits them (quality.js), state changes told
// to screen readers (#announcer), and the hooks tests and benchmarks read
// (window.sightline, data-state and the quality's data-quality-limit on each tile,
// data-relay on <body>).
// The grid holds one page of the fleet (PAGE_SIZE tiles), whatever its size: it
// subscribes to that page (a query: search, online filter, offset) and the relay
// tells it about those cameras only (docs/protocol.md, "Viewer ⇄ relay"); the
// totals of the whole fleet come on their own. The view page subscribes to its one
// camera.

import { CameraSession, RelayConnection, syncWanted, validCameraId } from './signaling.js';
import { readStats } from './stats.js';
import { QualityHistory, judgeQuality } from './quality.js';
import { checkSession } from './auth.js';
import { Visibility } from './visibility.js';
import { PlayoutSync, setSyncWanted } from './sync.js';

const STATE_TEXT = { connecting: 'connecting…', live: 'live', offline: 'offline', error: 'error', paused: 'paused',
  refused: 'refused' };
// Said to screen readers when a tile comes to them (connecting and paused are not news).
const ANNOUNCED = new Set(['live', 'offline', 'error', 'refused']);
const PAGE_SIZE = 24;
const SEARCH_WAIT_MS = 250;  // typing: the query goes once the keys pause
const RESUBSCRIBE_MS = 1000; // the fleet changed: the page asks again, at most once a second
const number = new Intl.NumberFormat('en-US');

// `boot`: the view page's connection and its camera's session, started by view.html.
export function startApp({ container, boot = null }) {
  // One camera (the view page); the grid becomes that camera's view in place (focus below).
  let only = boot?.session.camera ?? null;
  const timing = boot?.timing || { start: performance.now() };
  const sessions = new Map();  // camera id -> CameraSession
  const stats = new Map();     // camera id -> latest figures
  const previous = new Map();  // camera id -> the figures before (for rates)
  const quality = new Map();   // camera id -> the last seconds of figures (QualityHistory)
  const tiles = new Map();     // camera id -> tile elements
  let lastTotals = null;       // the fleet's, as last told
  let again = null;            // a subscribe that waits (RESUBSCRIBE_MS)
  // closeRelaySocket: as a proxy dropping it would (tests, and trying out recovery).
  window.sightline = { sessions, timing, stats, relayConnects: () => relay.connects || 0,
    camera: (id) => relay.cameras?.get(id), closeRelaySocket: () => relay.ws?.close() };
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
    // An address that names no camera is said so on the tile (CameraSession): nothing to ask.
    if (validCameraId(only)) relay.subscribe({ ids: [only] });
  }
  // The grid's page: what it shows (search, filter, page) and the controls for it.
  const page = only ? null : makePager();
  window.sightline.page = page?.view;
  document.body.dataset.relay = relay.state;
  // In parallel with the socket: what our token allows (a sign-in field if nothing).
  checkSession().then((session) => {
    window.sightline.session = session;
    document.body.dataset.role = session?.role || 'none';
  });
  const banner = document.getElementById('banner');
  // In step (js/sync.js): the header's switch; each session starts again with it (its offer changes).
  const syncBox = document.getElementById('sync');
  if (syncBox) {
    syncBox.checked = syncWanted();
    syncBox.addEventListener('change', () => {
      setSyncWanted(syncBox.checked);
      // The choice is the viewer's now, not the address's.
      const url = new URL(location.href);
      if (url.searchParams.has('sync')) {
        url.searchParams.delete('sync');
        history.replaceState(history.state, '', url);
      }
      for (const s of sessions.values()) {
        s.sync = syncBox.checked;
        if (s.pc) s.again(0);
      }
    });
  }

  relay.addEventListener('open', () => { timing.wsOpen ??= performance.now(); });
  const relayState = (state) => {
    document.body.dataset.relay = state;
    banner.hidden = state !== 'reconnecting';
    if (state === 'reconnecting') {
      // Sessions still starting start over once the relay is back; those playing
      // play on (the relay holds them for session-hold seconds) and take
      // themselves back on the new socket (CameraSession.socketBack).
      for (const s of sessions.values()) {
        if (s.state !== 'refused' && s.state !== 'live' && s.state !== 'paused' && s.state !== 'offline') {
          s.stop();
          s.set('connecting');
        }
      }
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
    listed(detail, true);
  });
  relay.addEventListener('cameras', ({ detail }) => listed(detail, false));
  relay.addEventListener('camera_update', ({ detail }) => refresh(detail.cameras || []));
  relay.addEventListener('totals', ({ detail }) => totalsChanged(detail.totals));
  relay.addEventListener('error', ({ detail }) => console.warn('relay error:', detail.code, detail.message));
  if (relay.cameras) {  // welcomed already (view.html)
    listed({ cameras: [...relay.cameras.values()], totals: relay.totals }, true);
  }

  // A list from the relay: its welcome (the first page, unless the page asked for
  // something else since: then only the totals count), or the answer to the
  // page's subscribe. From a relay that does not page, the whole fleet, every time.
  function listed(m, welcome) {
    const cameras = m.cameras || [];
    if (only) {
      const complete = !relay.paged || !(welcome || relay.awaiting());
      const list = cameras.filter((c) => c.id === only);
      if (complete && list.length === 0) list.push({ id: only, online: false, unknown: true });
      refresh(list);
      if (relay.paged) totalsChanged(m.totals ?? relay.totals);
      return;
    }
    if (!relay.paged) {
      page.local();
      return;
    }
    totalsChanged(m.totals);
    if (welcome && relay.awaiting()) return;  // the answer to our subscribe follows
    page.show(cameras.slice(0, PAGE_SIZE), m);
  }

  // Tiles for exactly these cameras, in this order (the grid's page): the tiles of
  // cameras that left the page go (their sessions end), new ones come.
  function place(cameras) {
    const ids = new Set(cameras.map((c) => c.id));
    for (const id of [...tiles.keys()]) if (!ids.has(id)) drop(id);
    cameras.forEach((cam, at) => {
      const tile = tiles.get(cam.id) || addTile(cam.id);
      const here = container.children[at];
      if (here !== tile.figure) container.insertBefore(tile.figure, here || null);
    });
    refresh(cameras);
    document.getElementById('empty').hidden = tiles.size > 0;
  }

  function addTile(id) {
    const tile = makeTile(id);
    tiles.set(id, tile);
    container.append(tile.figure);
    const session = new CameraSession(relay, id, tile.video, (s) => render(s), sessions.size === 0 ? timing : null);
    session.wanted = () => visibility.wanted(id);
    sessions.set(id, session);
    if (!only) visibility.watch(tile.figure);
    return tile;
  }

  // A tile that goes: its session ends, nothing is kept about it.
  function drop(id) {
    const tile = tiles.get(id);
    sessions.get(id)?.forget();
    sessions.delete(id);
    stats.delete(id);
    previous.delete(id);
    quality.delete(id);
    tiles.delete(id);
    visibility.forget(tile.figure);
    tile.figure.remove();
  }

  // Entries for cameras (those with a tile; the others are not on this page):
  // start, stop, show. Sessions without a peer connection start (new tiles; all
  // of them after the relay came back), unless nobody sees them; a tile in
  // 'error' retries by itself, a refused one stays as it is.
  function refresh(cameras) {
    for (const entry of cameras) {
      const tile = tiles.get(entry.id);
      if (!tile) continue;
      // The relay connection merges partial updates into what it knows.
      const cam = entry.unknown ? entry : relay.cameras?.get(entry.id) ?? entry;
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
  }

  // The fleet's totals. A camera more (or fewer) may move this page's window, so
  // the page asks again (at most once a second); so does a page filtered on
  // online when cameras come and go, and the view of a camera the relay did not know.
  function totalsChanged(totals) {
    if (!totals) return;
    const before = lastTotals;
    lastTotals = totals;
    if (!only) page.totals(totals);
    if (!before || !relay.paged) return;
    const moved = before.cameras !== totals.cameras
      || (page?.view.online !== undefined && before.online !== totals.online);
    const wanted = only ? tiles.get(only)?.info?.unknown && before.cameras !== totals.cameras : moved;
    if (wanted && !again) {
      again = setTimeout(() => {
        again = null;
        relay.subscribe(only ? { ids: [only] } : page.query());
      }, RESUBSCRIBE_MS);
    }
  }

  // The grid's controls: totals, search, filter, pager (index.html), and what the
  // page shows. From a relay that does not page, the whole list is here: the page
  // filters and pages it itself (local).
  function makePager() {
    const $ = (id) => document.getElementById(id);
    const totalsBox = $('totals');
    const search = $('search');
    const show = $('show');
    const pager = $('pager');
    const range = $('range');
    const prev = $('prev');
    const next = $('next');
    const empty = $('empty');
    const emptyText = empty.innerHTML;
    const params = new URLSearchParams(location.search);
    const view = {
      q: params.get('q') || '',
      online: { online: true, offline: false }[params.get('show')],
      offset: Math.max(0, (parseInt(params.get('page'), 10) || 1) - 1) * PAGE_SIZE,
    };
    let total = null;
    let told = false;  // the user changed the view: say what it shows, once
    let typing = null;
    if (search) search.value = view.q;
    if (show) show.value = view.online === undefined ? '' : view.online ? 'online' : 'offline';

    const query = () => {
      const q = { offset: view.offset, limit: PAGE_SIZE };
      if (view.q) q.q = view.q;
      if (view.online !== undefined) q.online = view.online;
      return q;
    };
    // Another view: the address says it (a reload or Back comes back to it) and the relay is asked.
    const go = () => {
      const url = new URLSearchParams();
      if (view.q) url.set('q', view.q);
      if (view.online !== undefined) url.set('show', view.online ? 'online' : 'offline');
      if (view.offset) url.set('page', String(view.offset / PAGE_SIZE + 1));
      const qs = url.toString();
      history.replaceState(history.state, '', `${location.pathname}${qs ? `?${qs}` : ''}`);
      told = true;
      if (relay.paged === false) local();
      else relay.subscribe(query());
    };
    // A page that is not the first asks at once (the welcome brings the first).
    if (view.q || view.online !== undefined || view.offset) relay.subscribe(query());

    search?.addEventListener('input', () => {
      clearTimeout(typing);
      typing = setTimeout(() => {
        const q = search.value.trim();
        if (q === view.q) return;
        view.q = q;
        view.offset = 0;
        go();
      }, SEARCH_WAIT_MS);
    });
    search?.closest('form')?.addEventListener('submit', (e) => e.preventDefault());
    show?.addEventListener('change', () => {
      view.online = { online: true, offline: false }[show.value];
      view.offset = 0;
      go();
    });
    prev?.addEventListener('click', () => {
      if (view.offset === 0) return;
      // From past the end (an old address, a fleet that shrank): to the last page.
      const end = total ? Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE : 0;
      view.offset = total !== null && view.offset > end ? end : Math.max(0, view.offset - PAGE_SIZE);
      go();
    });
    next?.addEventListener('click', () => {
      if (total !== null && view.offset + PAGE_SIZE >= total) return;
      view.offset += PAGE_SIZE;
      go();
    });

    // One page of the list: tiles, range, pager. A page past the end (cameras went
    // offline under an online filter, a relay that restarted and has not heard from
    // every agent yet) stays where it is, empty, with Prev: the fleet may come back.
    let count = 0;  // cameras on this page
    function shown(cameras, { total: matching, offset = 0 }) {
      total = matching ?? cameras.length;
      view.offset = offset;
      count = cameras.length;
      place(cameras);
      const { first, last, past } = renderRange();
      const filtered = view.q || view.online !== undefined;
      if (past) {
        empty.textContent = 'No camera on this page any more: go back a page.';
      } else if (filtered && total === 0) {
        empty.textContent = `No camera${view.q ? ` named like “${view.q}”` : ''}${
          view.online === undefined ? '' : view.online ? ' is online' : ' is offline'}.`;
      } else if (empty.innerHTML !== emptyText) {
        empty.innerHTML = emptyText;
      }
      if (told) {
        told = false;
        announcer.say(cameras.length ? `Cameras ${number.format(first)} to ${number.format(last)} of ${number.format(total)}.`
          : empty.textContent);
      }
    }

    // "1–24 of 10,001" and the pager, from this page's place in the list: returns
    // that place ({ first, last }) and whether the page is past the end.
    function renderRange() {
      const first = view.offset + 1;
      const last = view.offset + count;
      const past = count === 0 && view.offset > 0;
      if (range) {
        range.textContent = past ? `past the end of ${number.format(total)}`
          : total ? `${number.format(first)}–${number.format(last)} of ${number.format(total)}` : '';
      }
      if (prev) prev.disabled = view.offset === 0;
      if (next) next.disabled = last >= total;
      if (pager) pager.hidden = view.offset === 0 && last >= total;
      return { first, last, past };
    }

    // New totals of the fleet. Unless a search narrows the list, they say how long
    // it is (all cameras, or those online or offline): the range follows at once,
    // and the page's cameras come with the answer to the page's next ask.
    function totalsMoved(t) {
      if (view.q || total === null || relay.paged === false) return;
      const key = view.online === undefined ? 'cameras' : view.online ? 'online' : 'offline';
      const length = Number(t[key]);
      if (!Number.isInteger(length) || length === total) return;
      total = length;
      renderRange();
    }

    // The relay sent the whole list (it does not page): filter, sort and page it here.
    function local() {
      const all = [...(relay.cameras?.values() || [])];
      const q = view.q.toLowerCase();
      const matching = all.filter((c) => (!q || c.id.toLowerCase().includes(q))
        && (view.online === undefined || !!c.online === view.online));
      matching.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      let online = 0;
      let watched = 0;
      for (const c of all) {
        if (c.online) online++;
        if (c.viewers > 0) watched++;
      }
      showTotals({ cameras: all.length, online, offline: all.length - online, watched });
      shown(matching.slice(view.offset, view.offset + PAGE_SIZE), { total: matching.length, offset: view.offset });
    }

    function showTotals(t) {
      totalsMoved(t);
      if (!totalsBox) return;
      totalsBox.hidden = false;
      totalsBox.textContent = '';
      const parts = [['cameras', t.cameras === 1 ? 'camera' : 'cameras'], ['online', 'online'],
        ['offline', 'offline'], ['watched', 'watched']];
      for (const [key, label] of parts) {
        const value = Number(t[key]) || 0;
        totalsBox.dataset[key] = String(value);
        const item = document.createElement('span');
        item.className = `count ${key}`;
        item.textContent = `${number.format(value)} ${label}`;
        totalsBox.append(item, ' ');  // read as words, not run together
      }
    }

    // Leaving the grid (a camera opens in place): the controls go, nothing is asked any more.
    function close() {
      clearTimeout(typing);
      for (const el of [totalsBox, document.getElementById('toolbar')]) if (el) el.hidden = true;
    }

    return { view, query, show: shown, local, totals: showTotals, close };
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
    // In step: the picture held to the relay's delay once it plays.
    if (session.state === 'live' && session.sync && !session.playout) {
      session.playout = new PlayoutSync(session.pc, session.answerSdp, session.video, () => relay.syncDelayMs);
    }
    if (session.state !== 'live') {
      stats.delete(session.camera);
      previous.delete(session.camera);  // the next session counts its bytes from zero
      quality.delete(session.camera);
      showQuality(tile, null);
    }
  }

  function renderInfo(tile, cam) {
    const parts = [];
    if (cam.width) parts.push(`${cam.width}×${cam.height}@${cam.fps}`);
    if (cam.codec) parts.push(cam.codec);
    if (cam.encoder) parts.push(cam.encoder);
    if (cam.audio) parts.push(`sound ${cam.audio}`);
    if (cam.online) parts.push(`${cam.viewers} watching`);
    tile.source.textContent = parts.join(' · ');
    tile.sound.hidden = !cam.audio;
    // Talking is an operator's (the relay lets only them): on the camera's own view.
    const role = window.sightline.session?.role;
    tile.talk.hidden = !(only && cam.talk && (role === 'operator' || role === 'admin'));
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
    // From now on the relay tells this page about this camera only.
    relay.subscribe({ ids: [id] });
    page.close();
    for (const other of [...tiles.keys()]) {
      if (other !== id) drop(other);
      else visibility.forget(tiles.get(id).figure);  // the view plays whenever its tab is shown
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
  setInterval(async () => {
    for (const [id, s] of sessions) {
      if (!s.pc || s.state !== 'live') continue;
      const figures = await readStats(s.pc, previous.get(id)).catch(() => null);
      if (!figures || sessions.get(id) !== s) continue;  // the tile went meanwhile
      previous.set(id, figures);
      stats.set(id, figures);
      const tile = tiles.get(id);
      if (!tile) continue;
      tile.figures.textContent = formatFigures(figures) + syncText(s.playout, relay.syncDelayMs);
      if (s.playout) tile.figure.dataset.sync = syncState(s.playout);
      else delete tile.figure.dataset.sync;
      if (!quality.has(id)) quality.set(id, new QualityHistory());
      quality.get(id).add(figures);
      showQuality(tile, judgeQuality(relay.cameras?.get(id) ?? tile.info, quality.get(id)));
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
  // What iPhones need to play a stream inline without a tap (muted autoplay),
  // as attributes, not only as state: `muted` the property alone leaves no
  // attribute, and WebKit reads the attribute when autoplay is decided.
  video.defaultMuted = true;
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
  const quality = document.createElement('div');
  quality.className = 'quality';
  quality.hidden = true;
  // Sound: muted at first (browsers play muted video by themselves), one click to hear it.
  const sound = document.createElement('button');
  sound.type = 'button';
  sound.className = 'sound';
  sound.hidden = true;
  const label = () => {
    sound.textContent = video.muted ? '🔇 unmute' : '🔊 mute';
    sound.setAttribute('aria-pressed', String(!video.muted));
  };
  sound.addEventListener('click', () => {
    video.muted = !video.muted;
    if (!video.muted) video.play().catch(() => {});
    label();
  });
  label();
  // Talk-back (the camera's view, operators): the microphone to the camera's speaker.
  const talk = document.createElement('button');
  talk.type = 'button';
  talk.className = 'talk';
  talk.hidden = true;
  talk.textContent = '🎙 talk';
  talk.setAttribute('aria-pressed', 'false');
  talk.addEventListener('click', async () => {
    const session = window.sightline.sessions.get(id);
    const on = talk.getAttribute('aria-pressed') !== 'true';
    try {
      const now = await session.talk(on);
      talk.setAttribute('aria-pressed', String(now));
      talk.textContent = now ? '🎙 talking… (stop)' : '🎙 talk';
    } catch (e) {
      talk.textContent = `🎙 talk (${e.name === 'NotAllowedError' ? 'microphone refused' : e.message})`;
    }
  });
  caption.append(name, state, source, sound, talk, quality, figures, note);
  screen.append(video, overlay);
  figure.append(screen, caption);
  return { figure, video, overlay, state, source, sound, talk, quality, figures, note, info: null };
}

// The quality received and what limits it (quality.js), or nothing while not playing.
function showQuality(tile, judged) {
  const el = tile.quality;
  if (!judged) {
    el.hidden = true;
    el.textContent = '';
    el.removeAttribute('data-quality-limit');
    el.removeAttribute('data-encoding');
    el.removeAttribute('title');
    return;
  }
  if (el.dataset.qualityLimit !== judged.limit) el.dataset.qualityLimit = judged.limit;
  if (el.dataset.encoding !== judged.encoding) el.dataset.encoding = judged.encoding;
  el.textContent = judged.text;
  el.title = judged.detail;
  el.hidden = false;
}

// Why a camera the list shows offline is offline, when the list says.
function offlineReason(cam) {
  if (!cam || cam.online) return '';
  if (cam.unknown) return 'This relay has not seen this camera (yet).';
  if (cam.connected) {
    // The agent's own words when it sent them (a device missing: "Cannot open camera /dev/video7: ...").
    const why = cam.error ? cam.error.replace(/\.$/, '') : 'it failed or was unplugged';
    return `Its agent is connected but the camera delivers no video (${why}); the agent keeps trying.`;
  }
  return '';
}

// In step (js/sync.js): how this tile keeps to the relay's delay.
function syncState(playout) {
  const st = playout.state;
  if (!st.clock) return 'no-clock';
  if (!st.control) return 'unsupported';
  if (st.latencyMs === null) return 'settling';
  return st.late ? 'late' : 'in-step';
}

function syncText(playout, delayMs) {
  if (!playout) return '';
  const st = playout.state;
  switch (syncState(playout)) {
    case 'no-clock': return ' · not in step: the camera does not say when it captured each frame';
    case 'unsupported': return ' · not in step: this browser cannot hold the picture back (jitterBufferTarget)';
    case 'settling': return ' · in step: settling';
    case 'late': return ` · in step: ${st.latencyMs - delayMs} ms behind (its path is slower than ${delayMs} ms)`;
    default: return ` · in step (${delayMs} ms)`;
  }
}

function formatFigures(f) {
  const parts = [`${f.width}×${f.height}`, `${f.fps} fps`, `${f.kbps} kbit/s`, `loss ${f.lossPct}%`];
  if (f.rttMs !== null) parts.push(`rtt ${f.rttMs} ms`);
  if (f.codec) parts.push(f.codec);
  if (f.localType) parts.push(`${f.localType}/${f.remoteType}`);
  return parts.join(' · ');
}
