#include "camera_h264_probe.hpp"

#include "gst_owned.hpp"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

namespace sl::agent {

namespace {
// Enough to see B-frames (they come within a few frames of a keyframe) and
// whether the second keyframe carries its parameter sets again.
constexpr int kEnoughFrames = 90;
constexpr int kEnoughKeyframes = 2;
}  // namespace

Result<H264Observed> probe_camera_h264(const std::string &source, unsigned timeout_ms) {
  const std::string description = source +
                                  " ! h264parse ! video/x-h264,stream-format=byte-stream,alignment=au"
                                  " ! appsink name=probe sync=false max-buffers=8";
  GError *raw = nullptr;
  auto pipeline = sink(gst_parse_launch(description.c_str(), &raw));
  Owned<GError> error(raw);
  if (!pipeline || error)
    return fail("cannot watch the camera's H.264 (" + std::string(error ? error->message : "unknown error") + ")");
  auto appsink = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "probe"));
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    return fail("the camera did not start to show its H.264");
  }
  H264Observed seen;
  const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
  while (seen.frames < kEnoughFrames && seen.keyframes < kEnoughKeyframes) {
    const gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0) break;
    auto sample = adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(appsink.get()), GstClockTime(left) * 1000));
    if (!sample) break;  // timeout, or the stream ended or failed
    GstBuffer *buffer = gst_sample_get_buffer(sample.get());
    GstMapInfo map;
    if (!buffer || !gst_buffer_map(buffer, &map, GST_MAP_READ)) continue;
    const bool dts_differs = GST_BUFFER_DTS_IS_VALID(buffer) && GST_BUFFER_PTS_IS_VALID(buffer) &&
                             GST_BUFFER_DTS(buffer) != GST_BUFFER_PTS(buffer);
    observe(seen, read_access_unit({map.data, map.size}), dts_differs);
    gst_buffer_unmap(buffer, &map);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  if (seen.frames == 0) return fail("the camera sent no H.264 within " + std::to_string(timeout_ms / 1000) + " s");
  return seen;
}

}  // namespace sl::agent
