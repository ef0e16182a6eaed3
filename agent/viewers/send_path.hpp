// webrtcbin's send path for one m-line, made ready early and trimmed of what does
// nothing for us.
//
// webrtcbin (1.22) connects a sink pad to its RTP session only when caps arrive
// on it. Ours would arrive with the first frame, when the session's gate opens at
// DTLS connected, so the connecting (elements made, linked, started) used to run
// on the first frame's way out. announce_input() sends the caps ahead, right after
// the answer, and webrtcbin connects the pad while ICE and DTLS run.
//
// What it connects is `sink_N -> clocksync -> (rtpulpfecenc ! rtpredenc) -> funnel`
// whatever was negotiated. For us (never FEC nor RED; a live source whose frames
// are already late for clocksync) all three pass each packet on unchanged, but they
// take packets one by one: the payloader's per-frame buffer lists become single
// pushes through the RTP session, RTX, SRTP and ICE. trim() takes them out when
// they are exactly that, and does nothing on any other layout.
#pragma once

#include <gst/gst.h>

#include <string>

namespace sl::agent::send_path {

// Sends stream-start and `caps` (the RTP caps the pad was requested with; transfer
// none) into webrtcbin's sink pad for `mline`. The payloader's own events replace them later.
void announce_input(GstElement *webrtc, unsigned mline, const std::string &stream_id, GstCaps *caps);

// Takes clocksync and the FEC/RED encoders off the path behind webrtcbin's sink
// pad for `mline` when the pad is connected, that path is exactly the one above,
// and the encoders are pass-through (FEC without a payload type or at 0%, no RED
// distance, no RED-only output). Call it before any data flows into the pad.
// Returns whether it did.
bool trim(GstElement *webrtc, unsigned mline);

}  // namespace sl::agent::send_path
