// The page's side of the signaling protocol (docs/protocol.md): one WebSocket to
// the relay's /ws/viewer, heartbeats, and reconnection with jittered backoff.
// The message shapes mirror common/protocol.hpp.

import { withToken } from './auth.js';

const HEARTBEAT_MS = 5000;
const SILENCE_MS = 15000;
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;

export const msg = {
  watch: (ref, camera, sdp) => ({ type: 'watch', ref, camera, sdp }),
  ice: (session, candidate, sdpMLineIndex) => ({
    type: 'ice', session, candidate, sdp_mline_index: sdpMLineIndex,
  }),
  stop: (session) => ({ type: 'stop', session }),
  heartbeat: () => ({ type: 'heartbeat' }),
};

// Emits: 'state' (connecting|connected|reconnecting), 'welcome', 'cameras',
// and every other message by its type ('session', 'answer', 'ice', 'session_end', 'error').
export class RelayConnection extends EventTarget {
  // `boot`: a socket the page opened before this module loaded (view.html), with
  // the messages it received meanwhile.
  constructor(url = defaultUrl(), boot = null) {
    super();
    this.url = url;
    this.state = 'connecting';
    this.attempt = 0;
    this.ws = null;
    this.iceServers = [];
    // ?ice=relay in the page's address: only TURN-relayed paths (for checking TURN).
    this.iceTransportPolicy = new URLSearchParams(location.search).get('ice') === 'relay' ? 'relay' : 'all';
    this.open(boot);
  }

  open(boot = null) {
    if (boot && boot.ws.readyState > WebSocket.OPEN) boot = null;  // it failed before we got here
    const ws = boot ? boot.ws : new WebSocket(this.url);
    this.ws = ws;
    let lastHeard = performance.now();
    let beat = null;
    const onOpen = () => {
      this.attempt = 0;
      this.connects = (this.connects || 0) + 1;
      this.emit('open', {});
      beat = setInterval(() => {
        if (performance.now() - lastHeard > SILENCE_MS) ws.close();
        else this.send(msg.heartbeat());
      }, HEARTBEAT_MS);
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
        this.setState('connected');
      }
      if (m.type === 'welcome' || m.type === 'cameras') this.cameras = m.cameras || [];
      this.emit(m.type, m);
    };
    ws.onmessage = onMessage;
    ws.onclose = () => {
      clearInterval(beat);
      if (this.ws !== ws) return;
      this.setState('reconnecting');
      // Jittered exponential backoff: many pages losing one relay come back spread out.
      const step = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.attempt++);
      setTimeout(() => this.open(), step / 2 + Math.random() * step / 2);
    };
    if (ws.readyState === WebSocket.OPEN) {
      // Adopted after it opened: replay what happened before we listened.
      queueMicrotask(() => {
        onOpen();
        for (const event of boot.early) onMessage(event);
      });
    } else {
      ws.onopen = onOpen;
    }
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
