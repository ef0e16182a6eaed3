// A V4L2 camera's failures in plain words (whether its device is missing, not
// openable, or of no use), and the source planned for a camera whose device
// cannot be opened at start-up: the agent starts with it anyway and the camera
// keeper retries it, as for an IP camera that is down.
#pragma once

#include "result.hpp"
#include "settings.hpp"
#include "sources.hpp"

#include <glib.h>

#include <string>
#include <vector>

namespace sl::agent {

// Why a V4L2 device gave no modes. Missing and unopenable devices can come
// right while the agent runs (plugged in, permissions applied, let go by
// another program): they are retried. An unusable one (opened, but no video
// format the agent takes) will not: it stops start-up.
enum class V4l2Trouble { Missing, Unopenable, Unusable };

struct V4l2ProbeError {
  V4l2Trouble trouble = V4l2Trouble::Unusable;
  std::string message;  // a sentence for the user, naming the device
};

// The modes a V4L2 device offers, or why there are none.
Result<std::vector<CameraMode>, V4l2ProbeError> probe_v4l2_modes(const std::string &device);

// The sentence for a device that is missing or cannot be opened.
std::string v4l2_trouble_text(V4l2Trouble trouble, const std::string &device);

// v4l2src's error as a sentence naming the device (SourcePlan::explain_error).
std::string describe_v4l2_error(const GError *error, const std::string &device);

// A source for a device that could not be opened: whatever the device gives
// when it is there (raw, MJPEG or H.264, decoded) scaled and converted to the
// size and rate asked for, as I420 into "rawcaps". `unreachable` says why; the
// mode, and whether its H.264 is passed through, are decided when the agent
// starts with the camera present. Its decoder is linked by `configure`.
SourcePlan plan_absent_v4l2(const std::string &device, const V4l2ProbeError &why, const CameraSettings &settings);

}  // namespace sl::agent
