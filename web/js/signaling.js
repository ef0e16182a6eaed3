// The page's side of the signaling protocol (docs/protocol.md): one WebSocket to
// the relay's /ws/viewer (heartbeats, reconnection with jittered backoff), and one
// CameraSession per camera watched (its peer connection, its messages, retrying
// with backoff or stopping when retrying cannot help). The message shapes mirror
// common/protocol.hpp.
// One file on purpose: the view page loads it first and alone, to get its picture
// up before the rest of the app loads (view.html), and each file is one more
// request before the first frame. The app then goes on with the same objects.

const HEARTBEAT_MS = 5000;
const SILENCE_MS = 15000;
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 5000;
const DEFAULT_SYNC_DELAY_MS = 400;  // an older relay's welcome does not say (relay setting sync-delay)
// What the relay says about one session: it goes to that session.
const SESSION_TYPES = new Set(['session', 'answer', 'ice', 'session_end', 'error', 'renew']);
// A live session whose packets stop this long restarts ICE on the same session
// (its path changed: a new address, Wi-Fi to mobile); a camera slower than 2 fps
// gets 2.5 of its frame intervals.
const STALL_MS = 1000;
// A restart answered and still no packets this long: restarted again (the browser
// may have gathered before it knew its new network); tried for this long in all.
const RESTART_AGAIN_MS = 700;
const RESTART_GIVE_UP_MS = 6000;

// Viewers in step (js/sync.js): whether this page plays in step: ?sync=1 / ?sync=0
// in its address, else the viewer's last choice, else off (it adds delay).
export const SYNC_KEY = 'sightline.sync';
export function syncWanted() {
  const asked = new URLSearchParams(location.search).get('sync');
  if (asked !== null) return asked !== '0' && asked !== 'off';
  try { return localStorage.getItem(SYNC_KEY) === '1'; } catch { return false; }
}
// An offer without the playout-delay header extension, which asks the browser to
// play at once (what the page wants unless in step).
const PLAYOUT_DELAY = /^a=extmap:\d+(\/\w+)? http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/playout-delay\r?\n/gm;
export const withoutPlayoutDelay = (sdp) => sdp.replace(PLAYOUT_DELAY, '');

export const msg = {
  watch: (ref, camera, sdp) => ({ type: 'watch', ref, camera, sdp }),
  ice: (session, candidate, sdpMLineIndex) => ({
    type: 'ice', session, candidate, sdp_mline_index: sdpMLineIndex,
  }),
  stop: (session) => ({ type: 'stop', session }),
  restart: (session, camera, sdp, renew = false) => ({ type: 'restart', session, camera, sdp,
    ...(renew ? { renew } : {}) }),
  heartbeat: () => ({ type: 'heartbeat' }),
};

// Emits: 'open', 'state' (connecting|connected|reconnecting), 'welcome', 'cameras'
// (the answer to the page's latest `subscribe`; older answers are dropped),
// 'camera_update', 'totals', and every other message by its type ('command_result',
// and an 'error' or 'session_end' no session claimed). A session's own messages go
// to its handle().
//
// What the page is told about (docs/protocol.md, "Viewer ⇄ relay"): the welcome
// carries the first page of the list and the socket starts subscribed to it;
// subscribe() replaces that with a query or a few ids, and is sent again after every
// welcome (a relay that restarted or a new socket forgot it). A relay that welcomes
// without `total` is older: it sends the whole list, in the welcome and in every
// `cameras`, and knows no `subscribe` (`paged` false); pages then filter and page
// the list themselves.
export class RelayConnection extends EventTarget {
  // `early`: { ws, events }, a socket the page opened before this module loaded
  // (view.html) and the message events it got meanwhile; taken over as it is.
  constructor(url = defaultUrl(), early = null) {
    super();
    this.url = url;
    this.state = 'connecting';
    this.attempt = 0;
    this.connects = 0;
    this.welcomes = 0;
    this.ws = null;
    this.iceServers = [];
    this.syncDelayMs = DEFAULT_SYNC_DELAY_MS;
    // The latest entries known (id -> entry), once the relay welcomed us: those of the
    // latest list (the welcome's, or the answer to our subscribe), with every
    // camera_update merged in. The whole fleet only from a relay that is not `paged`.
    this.cameras = null;
    this.totals = null;         // { cameras, online, offline, watched }, when the relay says
    this.paged = null;          // whether the relay pages (known at its welcome)
    this.subscription = null;   // what the page asked for last: { q, online, offset, limit } or { ids }
    this.subscribed = null;     // the ref of the subscribe sent last, until it is answered
    this.subscribes = 0;
    this.sessions = new Set();  // CameraSessions, for routing
    // ?ice=relay in the page's address: only TURN-relayed paths (for checking TURN).
    this.iceTransportPolicy = new URLSearchParams(location.search).get('ice') === 'relay' ? 'relay' : 'all';
    // A page going away ends its sessions at once (the camera drops their branches):
    // the relay holds a session whose socket merely died, for the page to take back.
    addEventListener('pagehide', () => {
      for (const s of this.sessions) if (s.session) this.send(msg.stop(s.session));
    });
    this.open(early);
  }

  open(early = null) {
    if (early && early.ws.readyState > WebSocket.OPEN) early = null;  // it failed before we got here
    const ws = early ? early.ws : new WebSocket(this.url);
    this.ws = ws;
    let lastHeard = performance.now();
    const onOpen = () => {
      this.attempt = 0;
      this.connects++;
      this.emit('open', {});
      clearInterval(this.beat);
      const beat = setInterval(() => {
        if (performance.now() - lastHeard > SILENCE_MS) ws.close();
        else this.send(msg.heartbeat());
      }, HEARTBEAT_MS);
      this.beat = beat;
      ws.addEventListener('close', () => clearInterval(beat));
    };
    const onMessage = (event) => {
      lastHeard = performance.now();
      let m;
      try {
        m = JSON.parse(event.data);
      } catch {
        console.warn('relay sent something that is not JSON');
        return;
      }
      // Answering the relay's heartbeats lets its interval alone decide liveness.
      if (m.type === 'heartbeat') {
        this.send(msg.heartbeat());
        return;
      }
      if (m.type === 'welcome') {
        this.iceServers = m.ice_servers || [];
        this.syncDelayMs = m.sync_delay_ms || DEFAULT_SYNC_DELAY_MS;
        this.paged = m.total !== undefined;
        this.subscribed = null;
        this.welcomes++;
        this.setState('connected');
        // This socket starts subscribed to the first page: ask again for what the page wants.
        if (this.subscription) this.sendSubscription();
        // Sessions that played on the socket before: taken back (restart) on this one.
        for (const s of this.sessions) s.socketBack();
      }
      // While a subscribe is on its way, the answers to older ones are out of date.
      if (m.type === 'cameras' && this.subscribed !== null && m.ref !== this.subscribed) return;
      if ((m.type === 'cameras' || m.type === 'error') && m.ref && m.ref === this.subscribed) this.subscribed = null;
      if (m.type === 'welcome' || m.type === 'cameras') {
        this.cameras = new Map((m.cameras || []).map((c) => [c.id, c]));
      }
      if (m.type === 'camera_update' && this.cameras) {
        for (const c of m.cameras || []) this.cameras.set(c.id, { ...this.cameras.get(c.id), ...c });
      }
      if (m.totals) this.totals = m.totals;
      if (SESSION_TYPES.has(m.type) && this.route(m)) return;
      this.emit(m.type, m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.setState('reconnecting');
      // Jittered exponential backoff: many pages losing one relay come back spread out.
      const step = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** this.attempt++);
      setTimeout(() => this.open(), step / 2 + Math.random() * step / 2);
    };
    ws.onmessage = onMessage;
    if (ws.readyState === WebSocket.OPEN) {
      // Taken over after it opened: what happened before we listened, in order.
      queueMicrotask(() => {
        onOpen();
        for (const event of early.events) onMessage(event);
      });
    } else {
      ws.onopen = onOpen;
    }
  }

  // A new socket now, for a session restarting ICE: the old one may have died
  // with the page's old address (it cannot tell: a socket whose replies no longer
  // arrive stays open for a while), and one is cheap. Without waiting for the old
  // one's closing handshake on a path that may be gone; once for many sessions.
  reconnect() {
    const old = this.ws;
    if (!old || this.state !== 'connected') return;  // a new one is on its way
    old.onclose = null;
    old.onmessage = null;
    clearInterval(this.beat);
    try { old.close(); } catch { /* already closed */ }
    this.ws = null;
    this.setState('reconnecting');
    this.open();
  }

  // What the relay should tell this page about from now on: a query ({ q, online,
  // offset, limit }) or a few cameras ({ ids }). Sent once the relay welcomed us, and
  // again after every welcome; a relay that does not page is not asked (it sends
  // everything anyway). Its answer is the next 'cameras' event.
  subscribe(subscription) {
    this.subscription = subscription;
    if (this.state === 'connected' && this.paged) this.sendSubscription();
  }

  sendSubscription() {
    if (!this.paged) return;
    this.subscribed = `s${++this.subscribes}`;
    this.send({ type: 'subscribe', ref: this.subscribed, ...this.subscription });
  }

  // Whether a subscribe is on its way: the entries known are not yet what it asked for.
  awaiting() { return this.subscribed !== null; }

  // Resolves once the socket is open (at once if it is).
  opened() {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => this.addEventListener('open', resolve, { once: true }));
  }

  // A message for one session: by the `ref` of its watch, or by its session id.
  route(m) {
    for (const s of this.sessions) {
      if ((m.ref && m.ref === s.ref) || (m.session && m.session === s.session)) {
        s.handle(m);
        return true;
      }
    }
    return false;
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.emit('state', { state });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

// The access token (docs/security.md, js/auth.js).
export const KEY = 'sightline.token';

export function token() {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given) {
    localStorage.setItem(KEY, given);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  return given || localStorage.getItem(KEY) || '';
}

// `path` with the token as a query parameter (WebSocket upgrades and <img> sources
// cannot carry an Authorization header).
export function withToken(path) {
  const t = token();
  if (!t) return path;
  return `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(t)}`;
}

function defaultUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${withToken('/ws/viewer')}`;
}

// Watching one camera: an RTCPeerConnection that offers to receive video, the
// signaling for it, and what to do when a session fails.

let refCounter = 0;

// A failed session is tried again after RETRY_FIRST_MS, doubling up to RETRY_MAX_MS,
// each wait jittered (half to all of it) so that pages do not come back in step.
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;

export function retryDelay(attempt) {
  const step = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
  return step / 2 + Math.random() * step / 2;
}

// Refusals that asking again will not change (docs/protocol.md): the token does not
// allow it, or the relay's limits on sessions per camera, client or connection are
// reached. A connection's limit on unanswered sessions (too_many_pending) is only a
// matter of time (a grid starting many tiles at once meets it): tried again.
export function refusal(m) {
  if (m.code === 'forbidden') return `Not allowed: ${m.message || 'this token may not watch this camera'}.`;
  if (m.code === 'too_many_sessions') {
    return `Refused by the relay: ${m.message || 'too many sessions'}. Close other views and reload to try again.`;
  }
  return null;
}

// Camera ids as the relay takes them (common/json_io.hpp valid_camera_id): DEVICE
// or DEVICE/NAME, each part 1-64 of A-Z a-z 0-9 . _ - and not only dots.
export function validCameraId(id) {
  const part = (p) => /^[A-Za-z0-9._-]{1,64}$/.test(p) && /[^.]/.test(p);
  const parts = String(id).split('/');
  return parts.length <= 2 && parts.every(part);
}

// States: 'connecting' -> 'live' (first frame shown) ; 'offline' ; 'error' (tried
// again later) ; 'refused' (not tried again) ; 'paused' (nobody sees the tile: no
// session, js/visibility.js).
export class CameraSession {
  constructor(relay, camera, video, onChange, timing) {
    this.relay = relay;
    this.camera = camera;
    this.video = video;
    this.onChange = onChange;
    this.timing = timing;  // filled once, for the first session of the page
    this.state = 'connecting';
    this.message = '';
    this.pc = null;
    this.session = null;
    this.ref = null;
    this.pending = [];
    this.retry = null;
    this.failures = 0;     // in a row: how long the next wait is
    this.prepared = null;  // { pc, offer } made ahead (view.html): the next start() uses them
    this.wanted = () => true;  // the page says whether the tile is seen
    this.sync = syncWanted();  // in step (js/sync.js): the offer leaves playout-delay out
    this.playout = null;       // its PlayoutSync while live (js/app.js)
    this.restarting = null;    // an ICE restart under way: { at, sdp, candidates, timers }
    this.restarts = 0;         // ICE restarts that played again (tests read it)
    this.restartMs = [];       // how long each took, from its start to packets flowing again
    this.restartLog = [];      // each restart's wall-clock time and why (tests read it)
    relay.sessions.add(this);
  }

  set(state, message = '') {
    this.state = state;
    this.message = message;
    this.onChange(this);
  }

  mark(step, at = performance.now()) {
    if (this.timing && this.timing[step] === undefined && at !== null) this.timing[step] = at;
  }

  async start() {
    const prepared = this.prepared;
    this.prepared = null;
    this.stop();
    // An address that names no camera (/view/a/b/c): nothing to ask the relay.
    if (!validCameraId(this.camera)) {
      prepared?.pc.close();
      this.refuse(`No such camera: '${this.camera}' is not a camera id (DEVICE or DEVICE/NAME, each of letters, `
        + 'digits, . _ -).');
      return;
    }
    this.set('connecting');
    const pc = prepared ? prepared.pc : new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    this.pc = pc;
    this.ref = `r${++refCounter}`;
    this.session = null;
    this.pending = [];
    if (!prepared) {
      pc.addTransceiver('video', { direction: 'recvonly' });
      // The camera's sound, when it has some; and, once an operator presses talk,
      // theirs to the camera's speaker (a track added then: no renegotiation).
      pc.addTransceiver('audio', { direction: 'sendrecv' });
    }
    this.wire(pc);
    // The answer may arrive before setLocalDescription is done, and candidates
    // before the answer: each step waits for the one it needs.
    this.remoteReady = new Promise((resolve) => { this.answered = resolve; });
    // ICE servers come with the relay's welcome; gathering starts only at setLocalDescription.
    pc.setConfiguration({ iceServers: this.relay.iceServers, bundlePolicy: 'max-bundle' });
    // The relay's `session` reply carries this session's ICE servers (TURN with
    // credentials for it alone): gathering waits for them.
    const sessionReady = new Promise((resolve) => { this.sessionArrived = resolve; });
    this.localReady = (async () => {
      const offer = await (prepared ? prepared.offer : pc.createOffer());
      // The view page's first session asks as soon as the socket is open, without
      // waiting for the relay's welcome (view.html).
      await this.relay.opened();
      if (pc !== this.pc) return;
      // In step (sync.js): without the playout-delay extension, which would make the browser play at once.
      const sdp = this.sync ? withoutPlayoutDelay(offer.sdp) : offer.sdp;
      this.relay.send(msg.watch(this.ref, this.camera, sdp));
      this.mark('offerSent');
      const started = await sessionReady;
      if (pc !== this.pc) return;
      if (started.ice_servers?.length) {
        this.sessionIce = { iceServers: started.ice_servers, bundlePolicy: 'max-bundle',
          iceTransportPolicy: this.relay.iceTransportPolicy || 'all' };
        pc.setConfiguration(this.sessionIce);
      }
      await pc.setLocalDescription({ type: 'offer', sdp });
    })();
    await this.localReady.catch((e) => { if (pc === this.pc) this.fail(`cannot start: ${e.message}`); });
  }

  // The session's handlers on a peer connection: its picture and sound, its
  // candidates (to the relay, once the session has an id), and ICE failing.
  wire(pc) {
    // Video and sound in one stream on the element (muted until the viewer unmutes).
    const stream = new MediaStream();
    pc.ontrack = (event) => {
      stream.addTrack(event.track);
      if (event.track.kind === 'video') this.show(pc, stream);
    };
    pc.onicecandidate = (event) => {
      const c = event.candidate;
      const m = msg.ice(null, c ? c.candidate : '', c ? c.sdpMLineIndex ?? 0 : 0);
      const r = this.restarting;
      if (r) {
        // A restart's candidates follow its offer, on the socket that sent it (socketBack).
        r.candidates.push(m);
        if (r.sentOn === this.relay.welcomes) this.relay.send({ ...m, session: this.session });
      } else if (this.session) {
        this.relay.send({ ...m, session: this.session });
      } else {
        this.pending.push(m);
      }
    };
    pc.oniceconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') this.mark('iceConnected');
      // A path that played and broke is restarted on the same session; one that
      // never played, or a restart that failed, starts over.
      if (pc.iceConnectionState === 'failed') {
        if (this.state === 'live' && !this.restarting) this.restartIce('the network path failed (ICE)');
        else if (!this.restarting?.renew) this.fail('network path failed (ICE)');
      }
    };
  }

  show(pc, stream) {
    if (this.video.srcObject !== stream) {  // setting it again would restart playback
      this.video.srcObject = stream;
      this.video.play().catch(() => {});
    }
    const onFrame = () => {
      if (pc !== this.pc) return;
      this.mark('firstFrame');
      this.failures = 0;
      if (this.state !== 'live') this.set('live');
      this.watchPath(pc);
    };
    if ('requestVideoFrameCallback' in this.video) this.video.requestVideoFrameCallback(onFrame);
    else this.video.addEventListener('playing', onFrame, { once: true });
  }

  // While live: packets that stop mean the path changed (or broke): ICE is
  // restarted on the same session, which plays again without a new session.
  watchPath(pc) {
    if (this.pathWatch) return;
    let packets = -1;
    let changed = performance.now();
    const stallMs = () => {
      const fps = this.relay.cameras?.get(this.camera)?.info?.fps ?? this.relay.cameras?.get(this.camera)?.fps;
      return fps > 0 && fps < 2 ? 2500 / fps : STALL_MS;
    };
    this.pathWatch = setInterval(async () => {
      if (pc !== this.pc) return;
      const receiver = pc.getReceivers().find((r) => r.track.kind === 'video');
      let now = -1;
      (await receiver?.getStats().catch(() => null))?.forEach((s) => {
        if (s.type === 'inbound-rtp') now = s.packetsReceived || 0;
      });
      if (pc !== this.pc) return;
      const t = performance.now();
      if (now !== packets) {
        packets = now;
        changed = t;
        if (this.restarting?.answered) this.restarted();
      } else if (t - changed > stallMs() && !this.restarting && this.state === 'live') {
        this.restartIce(`no packets for ${Math.round(t - changed)} ms`);
      } else if (this.restarting?.answered && t - this.restarting.answeredAt > RESTART_AGAIN_MS) {
        this.restartIce('no packets after the restart', this.restarting);
      }
    }, 250);
  }

  // An ICE restart on the same session (docs/protocol.md, "Restarting ICE"): a
  // new offer with new credentials and candidates from wherever the page is now,
  // through the relay (a new socket if the old one died with the old address) to
  // the camera's agent, which answers on the same connection.
  // `previous`: the restart this one follows (answered, and still no packets);
  // `newSocket`: whether to open a new relay socket for it.
  async restartIce(why, previous = null, newSocket = !previous) {
    const pc = this.pc;
    if (!pc || !this.session || this.restarting !== previous) return;
    console.info(`${this.camera}: restarting ICE: ${why}`);
    const r = this.beginRestart(why, previous, `the network changed and the session did not come back (${why})`);
    if (newSocket) this.relay.reconnect();
    try {
      pc.restartIce();
      const offer = await pc.createOffer({ iceRestart: true });
      if (pc !== this.pc || this.restarting !== r) return;
      r.sdp = this.sync ? withoutPlayoutDelay(offer.sdp) : offer.sdp;
      await pc.setLocalDescription({ type: 'offer', sdp: r.sdp });
    } catch (e) {
      if (pc === this.pc) this.fail(`cannot restart: ${e.message}`);
      return;
    }
    if (pc !== this.pc || this.restarting !== r) return;
    // On the socket that is welcomed now; or, once the new one is, by socketBack.
    if (this.relay.state === 'connected') this.sendRestart(r);
  }

  // The camera's address changed (its agent's `renew`, docs/protocol.md "Renewing a
  // session"): the path is gone at the camera's end, where an ICE restart cannot
  // bring a new address. A new peer connection on the same session: its offer goes
  // through the relay as a restart with `renew`, the agent answers from a new
  // branch, and the tile plays on where it was. An ICE restart under way is overtaken.
  async renew(why) {
    const old = this.pc;
    if (!old || !this.session || this.restarting?.renew) return;
    console.info(`${this.camera}: renewing the session: ${why}`);
    this.restarting?.timers.forEach(clearTimeout);  // overtaken: this one's own time starts
    const r = this.beginRestart(why, null, "the camera's network changed and the session did not come back");
    r.renew = true;
    clearInterval(this.pathWatch);
    this.pathWatch = null;
    this.playout?.stop();  // in step: made again for the new connection once it plays (js/app.js)
    this.playout = null;
    const pc = new RTCPeerConnection(this.sessionIce || { iceServers: this.relay.iceServers, bundlePolicy: 'max-bundle' });
    this.pc = pc;
    old.close();
    this.wire(pc);
    try {
      pc.addTransceiver('video', { direction: 'recvonly' });
      const audio = pc.addTransceiver('audio', { direction: 'sendrecv' });
      // Talk-back that was on goes on, on the new connection.
      if (this.mic) await audio.sender.replaceTrack(this.mic.getAudioTracks()[0]);
      const offer = await pc.createOffer();
      if (pc !== this.pc || this.restarting !== r) return;
      r.sdp = this.sync ? withoutPlayoutDelay(offer.sdp) : offer.sdp;
      this.localReady = pc.setLocalDescription({ type: 'offer', sdp: r.sdp });
      await this.localReady;
    } catch (e) {
      if (pc === this.pc) this.fail(`cannot renew: ${e.message}`);
      return;
    }
    if (pc !== this.pc || this.restarting !== r) return;
    if (this.relay.state === 'connected') this.sendRestart(r);
  }

  // A restart (restartIce, renew) under way from now: logged, its answer awaited, and
  // given up with `giveUp` after RESTART_GIVE_UP_MS from the first of a series
  // (`previous`: the restart this one follows, whose time it keeps).
  beginRestart(why, previous, giveUp) {
    this.restartLog.push({ at: Date.now(), why });
    const r = { at: previous?.at ?? performance.now(), sdp: null, candidates: [], answered: false, answeredAt: 0,
      sentOn: -1, timers: previous?.timers ?? [], renew: false };
    this.restarting = r;
    if (!previous) {
      r.timers.push(setTimeout(() => { if (this.restarting?.at === r.at) this.fail(giveUp); }, RESTART_GIVE_UP_MS));
    }
    this.remoteReady = new Promise((resolve) => { this.answered = resolve; });
    return r;
  }

  sendRestart(r) {
    if (r.sentOn === this.relay.welcomes) return;  // sent on this socket already
    r.sentOn = this.relay.welcomes;
    this.relay.send(msg.restart(this.session, this.camera, r.sdp, r.renew));
    for (const c of r.candidates) this.relay.send({ ...c, session: this.session });
  }

  // Packets flow again after a restart.
  restarted() {
    const r = this.restarting;
    if (!r) return;
    r.timers.forEach(clearTimeout);
    this.restarting = null;
    this.restarts++;
    this.restartMs.push(Math.round(performance.now() - r.at));
    if (r.renew) this.onChange(this);  // a new connection: what the app keeps of the old one is made again
  }

  // The relay socket is open again (a welcome): a live session takes itself back
  // from the old socket (the relay held it), its restart's offer goes again if
  // one was under way; one that was still starting starts over.
  socketBack() {
    if (!this.pc || !this.session) return;
    const r = this.restarting;
    // A restart's offer not answered yet goes again (one still being made: restartIce sends it).
    if (r) {
      if (r.sdp && !r.answered) this.sendRestart(r);
    } else if (this.state === 'live') {
      this.restartIce('the relay connection was replaced', null, false);
    } else {
      this.again(0);
    }
  }

  // Messages from the relay for this session (RelayConnection.route).
  async handle(m) {
    if (m.type === 'session') {
      this.session = m.session;
      this.sessionArrived?.(m);
      for (const c of this.pending) this.relay.send({ ...c, session: this.session });
      this.pending = [];
    } else if (m.type === 'answer') {
      this.mark('answer');
      const pc = this.pc;
      const r = this.restarting;
      try {
        await this.localReady;
        if (pc !== this.pc) return;
        if (r) {
          if (r.answered || pc.signalingState !== 'have-local-offer') return;  // an answer to the same offer sent again
          if (r.renew && r.sentOn < 0) return;  // to an ICE restart the renewal overtook: not this connection's
          r.answered = true;
          r.answeredAt = performance.now();
        }
        await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        this.answerSdp = m.sdp;  // as sent: the browser's remoteDescription drops what it does not use (a=mediaclk)
        this.answered();
      } catch (e) {
        if (pc === this.pc) this.fail(`bad answer: ${e.message}`);
      }
    } else if (m.type === 'ice') {
      if (!m.candidate) return;
      const pc = this.pc;
      await this.remoteReady;
      if (pc !== this.pc) return;
      try {
        await pc.addIceCandidate({ candidate: m.candidate, sdpMLineIndex: m.sdp_mline_index });
      } catch (e) {
        console.warn('candidate refused', e);
      }
    } else if (m.type === 'renew') {
      this.renew("the camera's network changed");
    } else if (m.type === 'session_end') {
      this.session = null;
      if (m.reason === 'camera_offline') this.offline();
      // The camera's side could not take the restart, or no relay has the session
      // any longer: a new session at once.
      else if (m.reason === 'restart_failed' || m.reason === 'unknown_session') this.again(0);
      else if (m.reason === 'pipeline_restart') this.again();
      // The relay moved the camera's viewers between itself and the camera (fan-out,
      // docs/fanout.md): the next session is served the other way, at once.
      else if (m.reason === 'moved') this.again(0);
      else this.fail(`session ended: ${m.reason}`);
    } else if (m.type === 'error') {
      // The relay no longer knows the session (it restarted, or held it too long): a new one.
      if (m.code === 'unknown_session' && this.restarting) { this.again(0); return; }
      // Offline and unknown cameras wait for the camera list to say they are back.
      if (m.code === 'camera_offline' || m.code === 'unknown_camera') this.offline();
      else if (refusal(m)) this.refuse(refusal(m));
      // The relay refused the watch itself (no session yet): asking again would not change it.
      else if (m.code === 'bad_message' && !this.session) this.refuse(`Refused by the relay: ${m.message}.`);
      else this.fail(m.message || m.code);
    }
  }

  // The camera may still be online: try again, waiting longer after each failure in a row.
  fail(message) {
    this.stop();
    const wait = retryDelay(this.failures++);
    this.set('error', `${message} (trying again in ${Math.max(1, Math.round(wait / 1000))} s)`);
    this.retry = setTimeout(() => this.resume(), wait);
  }

  // Asking again would get the same answer: the tile says why and stays as it is
  // until the page is loaded again.
  refuse(message) {
    this.stop();
    this.video.srcObject = null;
    this.set('refused', message);
  }

  // The camera restarted its pipeline on purpose: watch again at once.
  again(delayMs = 200) {
    this.stop();
    this.set('connecting');
    this.retry = setTimeout(() => this.resume(), delayMs);
  }

  resume() {
    if (this.wanted()) this.start();
    else this.pause();
  }

  // Nobody sees the tile: the session ends (the agent drops its branch).
  pause() {
    this.stop();
    this.set('paused');
  }

  offline() {
    this.stop();
    this.video.srcObject = null;
    this.set('offline');
  }

  // Talk-back: the microphone (the browser asks the first time) to the camera's
  // speaker over this session, or off again. Resolves to whether it is on.
  async talk(on) {
    const sender = this.pc?.getTransceivers().find((t) => t.receiver.track.kind === 'audio')?.sender;
    if (!on || !sender) {
      this.mic?.getTracks().forEach((t) => t.stop());
      this.mic = null;
      if (sender && this.pc) await sender.replaceTrack(null);
      return false;
    }
    this.mic ??= await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    await sender.replaceTrack(this.mic.getAudioTracks()[0]);
    return true;
  }

  stop() {
    clearTimeout(this.retry);
    this.retry = null;
    clearInterval(this.pathWatch);
    this.pathWatch = null;
    this.restarting?.timers.forEach(clearTimeout);
    this.restarting = null;
    this.mic?.getTracks().forEach((t) => t.stop());
    this.mic = null;
    if (this.session) this.relay.send(msg.stop(this.session));
    this.session = null;
    this.playout?.stop();
    this.playout = null;
    if (this.pc) this.pc.close();
    this.pc = null;
  }

  // The tile is gone: no more messages for it.
  forget() {
    this.stop();
    this.relay.sessions.delete(this);
  }
}
