// H.264 profiles as WebRTC peers name them in SDP (profile-level-id), and which
// streams a decoder of each profile takes: the rules a browser's decoder holds
// the agent to, whether it encodes itself or passes a camera's stream through.
// Pure logic.
#pragma once

#include "h264_bitstream.hpp"

#include <string>

namespace sl::agent {

enum class H264Profile { ConstrainedBaseline, Baseline, Main, ConstrainedHigh, High, PredictiveHigh444, Other };

// The profile of a profile-level-id or SPS, as libwebrtc and Safari classify it
// from profile_idc and the constraint flags (e.g. 42e0 and 4de0 are
// constrained baseline, 640c constrained high, f400 High 4:4:4 Predictive:
// what Chromium offers for its High-capable decoder).
H264Profile h264_profile(const ProfileLevel &pl);
const char *profile_name(H264Profile p);  // "constrained baseline", "high", ...
// The profile an SPS names, also those browsers do not decode ("high 10", "high 4:2:2").
std::string profile_name(const ProfileLevel &pl);

// Whether a decoder negotiated for `offered` decodes a stream of `sent` that
// has no B-frames (the agent never sends any: camera_h264.hpp).
bool profile_takes(H264Profile offered, H264Profile sent);

// H.264 levels are compared by level_idc, except that level 1b (level_idc 11
// with constraint_set3 in baseline profiles) sits between 1 and 1.1.
int level_rank(const ProfileLevel &pl);
std::string level_name(const ProfileLevel &pl);  // "3.1", "1b"

}  // namespace sl::agent
