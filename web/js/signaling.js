// The page's side of the signaling protocol (docs/protocol.md): one WebSocket to
// the relay's /ws/viewer, heartbeats, reconnection with jittered backoff, and the
// routing of each session's messages to its CameraSession (js/session.js).
// The message shapes mirror common/protocol.hpp.
// The view page loads this (with js/session.js) first and alone, to get its
// picture up before the rest of the app loads (js/boot.js); the app then goes on
// with the same connection.

import { withToken } from './auth.js';

const HEARTBEAT_MS = 5000;
const SILENCE_MS = 15000;
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;
// What the relay says about one session: it goes to that session.
const SESSION_TYPES = new Set(['session', 'answer', 'ice', 'session_end', 'error']);

export const msg = {
  watch: (ref, camera, sdp) => ({ type: 'watch', ref, camera, sdp }),
  ice: (session, candidate, sdpMLineIndex) => ({
    type: 'ice', session, candidate, sdp_mline_index: sdpMLineIndex,
  }),
  stop: (session) => ({ type: 'stop', session }),
  heartbeat: () => ({ type: 'heartbeat' }),
};

// Emits: 'open', 'state' (connecting|connected|reconnecting), 'welcome', 'cameras',
// and every other message by its type ('command_result', and an 'error' or
// 'session_end' no session claimed). A session's own messages go to its handle().
export class RelayConnection extends EventTarget {
  constructor(url = defaultUrl()) {
    super();
    this.url = url;
    this.state = 'connecting';
    this.attempt = 0;
    this.connects = 0;
    this.ws = null;
    this.iceServers = [];
    this.cameras = null;        // the relay's list, once it welcomed us
    this.sessions = new Set();  // CameraSessions, for routing
    // ?ice=relay in the page's address: only TURN-relayed paths (for checking TURN).
    this.iceTransportPolicy = new URLSearchParams(location.search).get('ice') === 'relay' ? 'relay' : 'all';
    this.open();
  }

  open() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    let lastHeard = performance.now();
    let beat = null;
    ws.onopen = () => {
      this.attempt = 0;
      this.connects++;
      this.emit('open', {});
      beat = setInterval(() => {
        if (performance.now() - lastHeard > SILENCE_MS) ws.close();
        else this.send(msg.heartbeat());
      }, HEARTBEAT_MS);
    };
    ws.onmessage = (event) => {
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
        this.setState('connected');
      }
      if (m.type === 'welcome' || m.type === 'cameras') this.cameras = m.cameras || [];
      if (SESSION_TYPES.has(m.type) && this.route(m)) return;
      this.emit(m.type, m);
    };
    ws.onclose = () => {
      clearInterval(beat);
      if (this.ws !== ws) return;
      this.setState('reconnecting');
      // Jittered exponential backoff: many pages losing one relay come back spread out.
      const step = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.attempt++);
      setTimeout(() => this.open(), step / 2 + Math.random() * step / 2);
    };
  }

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

function defaultUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${withToken('/ws/viewer')}`;
}
