// A WHEP server as the camera's source (`source = whep:URL`): the agent plays
// the part of a WHEP player (RFC 9725's egress twin, draft-ietf-wish-whep) and
// serves the stream it receives to its own viewers, H.264 passed through.
//
// The pipeline's description starts at a capsfilter named "src" that takes RTP;
// the WHEP client (whep_source.cpp) adds a fresh webrtcbin each time the
// pipeline plays (a webrtcbin cannot start a second session once stopped),
// offers one recvonly H.264 video transceiver with every candidate gathered,
// POSTs the offer, applies the answer, and links the received RTP into "src".
// Its failures (a refused POST, a server that does not answer, ICE or DTLS
// failing) are errors of "src", so the camera keeper restarts it with backoff
// like any camera; a stream that stops is caught by the stall timeout. When
// the pipeline stops, the session's resource is DELETEd (best effort).
//
// Keyframe requests travel as GstForceKeyUnit upstream events through the
// depayloader into webrtcbin's RTP session, which sends them to the server as
// RTCP PLI (the transceiver offers nack pli and ccm fir).
#pragma once

#include "result.hpp"
#include "settings.hpp"
#include "sources.hpp"

#include <string>

namespace sl::agent {

// The receive jitter buffer's depth (webrtcbin's latency) in ms. See docs/cameras.md.
inline constexpr guint kWhepLatencyMs = 30;

// The source for a whep: setting. The server is asked (OPTIONS, at most 3 s)
// whether it answers at all; when it does not, the agent starts anyway and the
// camera keeper retries (plan.unreachable says why).
Result<SourcePlan> plan_whep_source(const CameraSettings &settings);

}  // namespace sl::agent
