// A real capture pipeline for unit tests: the test source, 320x240, through x264enc
// (or the encoder asked for).
#pragma once

#include "capture/capture_pipeline.hpp"

#include <doctest/doctest.h>

#include <memory>

namespace sl::agent::testing {

// `settings` give what the test cares about (id, key-frame interval...); the
// source (the test pattern, or `source`: "emulate:h264-high" for a camera's own
// H.264), size and encoder are set here. Null, with a message, when the encoder
// is not installed: the caller skips.
inline std::unique_ptr<CapturePipeline> test_pipeline(CameraSettings settings, const char *encoder = "x264enc",
                                                      const char *source = "test") {
  gst_init(nullptr, nullptr);
  if (!gst_registry_check_feature_version(gst_registry_get(), encoder, 1, 0, 0)) {
    MESSAGE(encoder << " not installed: skipped");
    return nullptr;
  }
  settings.source = source;
  settings.pattern = "smpte";
  settings.width = 320;
  settings.height = 240;
  settings.encoder = encoder;
  auto created = CapturePipeline::create(settings);
  if (!created) FAIL(created.error());
  return *std::move(created);
}

// A viewer's branch for tests: a bin whose fakesink hands every packet it gets
// to `into.add(packet)` (on the camera's send thread), behind a ghost "sink".
template <typename Into>
GstElement *handoff_branch(Into &into) {
  GstElement *bin = gst_bin_new(nullptr);
  GstElement *sink = gst_element_factory_make("fakesink", nullptr);
  g_object_set(sink, "signal-handoffs", TRUE, "sync", FALSE, "async", FALSE, nullptr);
  g_signal_connect(sink, "handoff", G_CALLBACK(+[](GstElement *, GstBuffer *packet, GstPad *, gpointer data) {
                     static_cast<Into *>(data)->add(packet);
                   }),
                   &into);
  gst_bin_add(GST_BIN(bin), sink);
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  gst_element_add_pad(bin, gst_ghost_pad_new("sink", pad));
  gst_object_unref(pad);
  return bin;
}

}  // namespace sl::agent::testing
