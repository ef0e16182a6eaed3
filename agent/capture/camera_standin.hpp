// A camera stand-in, for tests and demos (`--source emulate:FORMAT`): it takes
// the place of v4l2src and nothing else. It offers modes as a V4L2 camera does
// and hands over what such a camera would (raw YUYV or NV12, MJPEG, or H.264 in
// the profiles real cameras send), so the agent's V4L2 path after the device
// (mode choice, decoding, encoding, pass-through, the H.264 checks) runs as it
// does for a real camera. It draws moving test frames; the latency stamp, when
// asked for, goes into its raw frames before it converts, compresses or encodes
// them, so a viewer reads it after the agent's whole path.
#pragma once

#include "result.hpp"
#include "source_choice.hpp"

#include <string>
#include <vector>

namespace sl::agent {

inline constexpr const char *kStandinPrefix = "emulate:";
// The element of the stand-in whose source pad carries its raw I420 frames.
inline constexpr const char *kStandinRawElement = "cameraraw";

struct CameraStandin {
  // gst-launch description standing where "v4l2src name=src ..." stands; its
  // size and rate follow the caps after it (the agent's "srccaps").
  std::string element;
  std::vector<CameraMode> modes;  // what it offers, as probe_v4l2_modes reports a camera's
};

// The formats it emulates: yuyv, nv12, mjpeg, h264-baseline, h264-main,
// h264-high (no B-frames), h264-high-bframes, and two no browser decodes:
// h264-high422 (4:2:2 chroma) and h264-high10 (10-bit).
const std::vector<std::string> &standin_formats();

// `format` is what follows "emulate:"; the modes offered include the size and
// rate asked for.
Result<CameraStandin> camera_standin(const std::string &format, const std::string &pattern, const ModeRequest &asked);

}  // namespace sl::agent
