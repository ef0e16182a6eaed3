// Watching one camera: an RTCPeerConnection that offers to receive video, the
// signaling for it, and retries when the session ends while the camera is online.

import { msg } from './signaling.js';

let refCounter = 0;

// States: 'connecting' -> 'live' (first frame shown) ; 'offline' ; 'error' ;
// 'paused' (nobody sees the tile: no session, js/visibility.js).
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
    this.prepared?.pc.close();
    this.prepared = null;
    this.wanted = () => true;  // the page says whether the tile is seen
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
    this.prepared = { pc, offer: pc.createOffer(), ref: null };
  }

  async start() {
    const prepared = this.prepared;
    this.prepared = null;
    this.stop();
    this.set('connecting');
    const pc = prepared ? prepared.pc : new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    this.pc = pc;
    // A prepared offer may already be on its way (view.html's boot script sent it),
    // and the boot script may have got the session further (below).
    this.ref = prepared?.ref || `r${++refCounter}`;
    this.session = prepared?.session || null;
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
    let answered;
    this.remoteReady = new Promise((resolve) => { answered = resolve; });
    this.answered = answered;
    if (prepared?.session) {
      // The boot script had the relay's `session`: gathering has started, and the
      // answer, the track, even the first frame may be here already.
      this.mark('answer', prepared.answerAt);
      this.mark('iceConnected', prepared.iceConnectedAt);
      pc.oniceconnectionstatechange();
      if (prepared.stream) this.show(pc, prepared.stream, prepared.firstFrameAt);
      prepared.remote?.then(answered, (e) => { if (pc === this.pc) this.fail(`bad answer: ${e.message}`); });
      this.localReady = prepared.local;
      await this.localReady.catch((e) => { if (pc === this.pc) this.fail(`cannot start: ${e.message}`); });
      return;
    }
    // ICE servers come with the relay's welcome; gathering starts only at setLocalDescription.
    pc.setConfiguration({ iceServers: this.relay.iceServers, bundlePolicy: 'max-bundle' });
    // The relay's `session` reply carries this session's ICE servers (TURN with
    // credentials for it alone): gathering waits for them.
    const sessionReady = new Promise((resolve) => { this.sessionArrived = resolve; });
    this.localReady = (async () => {
      const offer = await (prepared ? prepared.offer : pc.createOffer());
      if (pc !== this.pc) return;
      if (!prepared?.ref) this.relay.send(msg.watch(this.ref, this.camera, offer.sdp));
      this.mark('offerSent');
      const started = await sessionReady;
      if (pc !== this.pc) return;
      if (started.ice_servers?.length) {
        pc.setConfiguration({ iceServers: started.ice_servers, bundlePolicy: 'max-bundle',
          iceTransportPolicy: this.relay.iceTransportPolicy || 'all' });
      }
      await pc.setLocalDescription(offer);
    })();
    await this.localReady;
  }

  // Plays `stream`; `shownAt`: its first frame was on screen already (boot script).
  show(pc, stream, shownAt = null) {
    if (this.video.srcObject !== stream) {  // setting it again would restart playback
      this.video.srcObject = stream;
      this.video.play().catch(() => {});
    }
    if (shownAt === null) {
      this.watchFrames(pc);
    } else {
      this.mark('firstFrame', shownAt);
      this.set('live');
    }
  }

  watchFrames(pc) {
    const onFrame = () => {
      if (pc !== this.pc) return;
      this.mark('firstFrame');
      if (this.state !== 'live') this.set('live');
    };
    if ('requestVideoFrameCallback' in this.video) this.video.requestVideoFrameCallback(onFrame);
    else this.video.addEventListener('playing', onFrame, { once: true });
  }

  // Messages from the relay for this session (routed by ref or session id).
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
      if (m.code === 'camera_offline' || m.code === 'unknown_camera') this.offline();
      else this.fail(m.message || m.code);
    }
  }

  fail(message) {
    this.stop();
    this.set('error', message);
    // The camera may still be online: try again shortly.
    this.retry = setTimeout(() => this.resume(), 1000 + Math.random() * 1000);
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
}
