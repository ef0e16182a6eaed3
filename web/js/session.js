// Watching one camera: an RTCPeerConnection that offers to receive video, the
// signaling for it, and what to do when a session fails: try again with backoff,
// or stop when trying again cannot help.

import { msg } from './signaling.js';

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
// reached. A connection's limit on unanswered sessions is only a matter of time (a
// grid starting many tiles at once meets it), so that one is tried again.
export function refusal(m) {
  if (m.code === 'forbidden') return `Not allowed: ${m.message || 'this token may not watch this camera'}.`;
  if (m.code === 'too_many_sessions' && !/unanswered/.test(m.message || '')) {
    return `Refused by the relay: ${m.message || 'too many sessions'}. Close other views and reload to try again.`;
  }
  return null;
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
    this.prepared = null;
    this.wanted = () => true;  // the page says whether the tile is seen
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

  // Makes the peer connection and its offer ahead of time (before the relay has
  // even answered), so that joining costs no more than the network round trips.
  prepare() {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    this.prepared = { pc, offer: pc.createOffer() };
  }

  async start() {
    const prepared = this.prepared;
    this.prepared = null;
    this.stop();
    this.set('connecting');
    const pc = prepared ? prepared.pc : new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    this.pc = pc;
    this.ref = `r${++refCounter}`;
    this.session = null;
    this.pending = [];
    if (!prepared) pc.addTransceiver('video', { direction: 'recvonly' });
    pc.ontrack = (event) => this.show(pc, event.streams[0] || new MediaStream([event.track]));
    pc.onicecandidate = (event) => {
      const c = event.candidate;
      const m = msg.ice(null, c ? c.candidate : '', c ? c.sdpMLineIndex ?? 0 : 0);
      if (this.session) this.relay.send({ ...m, session: this.session });
      else this.pending.push(m);
    };
    pc.oniceconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') this.mark('iceConnected');
      if (pc.iceConnectionState === 'failed') this.fail('network path failed (ICE)');
    };
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
      // waiting for the relay's welcome (js/boot.js).
      await this.relay.opened();
      if (pc !== this.pc) return;
      this.relay.send(msg.watch(this.ref, this.camera, offer.sdp));
      this.mark('offerSent');
      const started = await sessionReady;
      if (pc !== this.pc) return;
      if (started.ice_servers?.length) {
        pc.setConfiguration({ iceServers: started.ice_servers, bundlePolicy: 'max-bundle',
          iceTransportPolicy: this.relay.iceTransportPolicy || 'all' });
      }
      await pc.setLocalDescription(offer);
    })();
    await this.localReady.catch((e) => { if (pc === this.pc) this.fail(`cannot start: ${e.message}`); });
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
    };
    if ('requestVideoFrameCallback' in this.video) this.video.requestVideoFrameCallback(onFrame);
    else this.video.addEventListener('playing', onFrame, { once: true });
  }

  // Messages from the relay for this session (js/signaling.js routes them by ref or session id).
  async handle(m) {
    if (m.type === 'session') {
      this.session = m.session;
      this.sessionArrived?.(m);
      for (const c of this.pending) this.relay.send({ ...c, session: this.session });
      this.pending = [];
    } else if (m.type === 'answer') {
      this.mark('answer');
      const pc = this.pc;
      try {
        await this.localReady;
        if (pc !== this.pc) return;
        await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
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
    } else if (m.type === 'session_end') {
      this.session = null;
      if (m.reason === 'camera_offline') this.offline();
      else if (m.reason === 'pipeline_restart') this.again();
      else this.fail(`session ended: ${m.reason}`);
    } else if (m.type === 'error') {
      // Offline and unknown cameras wait for the camera list to say they are back.
      if (m.code === 'camera_offline' || m.code === 'unknown_camera') this.offline();
      else if (refusal(m)) this.refuse(refusal(m));
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
  again() {
    this.stop();
    this.set('connecting');
    this.retry = setTimeout(() => this.resume(), 200);
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

  stop() {
    clearTimeout(this.retry);
    this.retry = null;
    if (this.session) this.relay.send(msg.stop(this.session));
    this.session = null;
    if (this.pc) this.pc.close();
    this.pc = null;
  }

  // The tile is gone: no more messages for it.
  forget() {
    this.stop();
    this.relay.sessions.delete(this);
  }
}
