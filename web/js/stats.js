// Figures a person watching wants, read from RTCPeerConnection.getStats():
// resolution, frame rate, bitrate, packet loss, freezes, round trip time, codec
// and the kind of network path (host, srflx, relay).

export async function readStats(pc, previous) {
  const report = await pc.getStats();
  let inbound = null;
  let pair = null;
  const byId = new Map();
  report.forEach((s) => {
    byId.set(s.id, s);
    if (s.type === 'inbound-rtp' && s.kind === 'video') inbound = s;
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = s.selectedCandidatePairId;
  });
  if (!pair) report.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s.id; });
  const now = performance.now();
  const f = {
    at: now, width: 0, height: 0, fps: 0, kbps: 0, lossPct: 0, rttMs: null,
    codec: '', localType: '', remoteType: '', bytes: 0, framesDecoded: 0, packetsLost: 0, packetsReceived: 0,
    freezeS: 0,
  };
  if (inbound) {
    f.width = inbound.frameWidth || 0;
    f.height = inbound.frameHeight || 0;
    f.fps = Math.round(inbound.framesPerSecond || 0);
    f.bytes = inbound.bytesReceived || 0;
    f.framesDecoded = inbound.framesDecoded || 0;
    f.packetsLost = inbound.packetsLost || 0;
    const received = inbound.packetsReceived || 0;
    f.packetsReceived = received;
    f.freezeS = inbound.totalFreezesDuration || 0;
    f.lossPct = received + f.packetsLost > 0 ? +(100 * f.packetsLost / (received + f.packetsLost)).toFixed(2) : 0;
    if (previous && now > previous.at) f.kbps = Math.round((f.bytes - previous.bytes) * 8 / (now - previous.at));
    const codec = byId.get(inbound.codecId);
    if (codec) f.codec = codec.mimeType.replace('video/', '');
  }
  const p = pair && byId.get(pair);
  if (p) {
    if (p.currentRoundTripTime !== undefined) f.rttMs = Math.round(p.currentRoundTripTime * 1000);
    f.localType = byId.get(p.localCandidateId)?.candidateType || '';
    f.remoteType = byId.get(p.remoteCandidateId)?.candidateType || '';
  }
  return f;
}
