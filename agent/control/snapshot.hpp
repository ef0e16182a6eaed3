// A JPEG of one encoded keyframe: decoded and re-encoded in a short-lived
// pipeline on a worker thread (gst_video_convert_sample only converts raw
// frames), so the main loop never waits on it.
#pragma once

#include <gst/gst.h>

#include <functional>
#include <string>

namespace sl::agent {

struct Jpeg {
  std::string bytes;  // empty on failure
  std::string error;
  int width = 0, height = 0;
};

// Calls `done` on the main loop.
void encode_jpeg(GstSample *keyframe, std::function<void(Jpeg)> done);

}  // namespace sl::agent
