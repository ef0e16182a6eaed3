// Which of a V4L2 camera's modes to capture, for the size and rate asked for:
// the camera's own H.264 first (passed through, no re-encoding), then MJPEG
// (decoded, then encoded), then raw formats. Pure logic over a list of modes.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sl::agent {

enum class PixelKind { H264, MJPEG, Raw };

struct CameraMode {
  PixelKind kind = PixelKind::Raw;
  std::string format;  // raw format name (YUY2, NV12, ...) for Raw
  int width = 0;
  int height = 0;
  double fps = 0;  // the highest rate offered at this size
};

struct ModeRequest {
  int width = 1280;
  int height = 720;
  int fps = 30;
};

// Picks the mode nearest the request (size first, then rate), preferring H.264
// over MJPEG over raw among modes that come as close. nullopt when `modes` is empty.
std::optional<CameraMode> choose_mode(const std::vector<CameraMode> &modes, const ModeRequest &want);

}  // namespace sl::agent
