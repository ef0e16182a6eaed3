// Watches the first frames of a camera's H.264 (a real V4L2 camera or the
// stand-in) before the agent's pipeline is built, so that camera_h264.hpp can
// judge whether they may go to browsers as they are. Costs the camera's start
// time plus up to two keyframes (at most `timeout_ms`).
#pragma once

#include "camera_h264.hpp"
#include "result.hpp"

#include <string>

namespace sl::agent {

// `source` is a gst-launch description ending in the camera's H.264 (byte-stream).
Result<H264Observed> probe_camera_h264(const std::string &source, unsigned timeout_ms = 4000);

}  // namespace sl::agent
