// Whether a camera's own H.264 can go to browsers as it is. What browsers'
// WebRTC decoders do not take is never sent: B-frames (frames out of order;
// Safari shows nothing, Chrome stutters) and profiles beyond High 4:2:0 8-bit
// (High 10, 4:2:2, 4:4:4, interlaced) are decoded and encoded again; a stream
// without SPS/PPS before each keyframe is passed through with them put back
// (h264parse config-interval=-1), so a viewer can start at any keyframe.
// Pure logic over what the first frames showed (camera_h264_probe.hpp reads them).
#pragma once

#include "h264_bitstream.hpp"
#include "result.hpp"

#include <functional>
#include <optional>
#include <string>

namespace sl::agent {

// What a camera's H.264 that passes goes through: parsed, with SPS and PPS put
// before every IDR (config-interval=-1) whether the camera sends them or not.
inline constexpr const char *kPassThroughH264 = "h264parse config-interval=-1";

// What the first frames of a camera's stream showed.
struct H264Observed {
  std::optional<H264Sps> sps;  // the first one seen
  int frames = 0;
  int keyframes = 0;
  int keyframes_without_parameter_sets = 0;  // IDRs not preceded by SPS and PPS in their access unit
  bool b_slices = false;
  bool reordered = false;  // a frame's decoding time differed from its presentation time
};

// Adds one access unit (a frame) of the stream; `dts_differs`: its DTS and PTS differ.
void observe(H264Observed &seen, const AccessUnitFacts &frame, bool dts_differs);

struct H264Verdict {
  bool pass_through = false;
  bool parameter_sets_added = false;  // passed through with SPS/PPS put before each keyframe
  std::string summary;                // what was found and what the agent does about it: one sentence
};

H264Verdict judge_camera_h264(const H264Observed &seen);

// The decoder for a camera's H.264 that is encoded again: the hardware one
// (v4l2h264dec, a Pi's) first, then libav's; `available` says whether an
// element factory exists.
Result<std::string> choose_h264_decoder(const std::function<bool(const std::string &)> &available);

}  // namespace sl::agent
