#include "snapshot.hpp"

#include "gst_owned.hpp"
#include "main_context.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <thread>

namespace sl::agent {

namespace {
constexpr GstClockTime kTimeout = 3 * GST_SECOND;

Jpeg run(GstSample *keyframe) {
  Jpeg out;
  GError *raw = nullptr;
  auto pipeline = sink(gst_parse_launch(
      "appsrc name=in format=time ! decodebin ! videoconvert ! jpegenc quality=85 ! appsink name=out sync=false",
      &raw));
  Owned<GError> error(raw);
  if (!pipeline || error) {
    out.error = std::string("cannot build the JPEG pipeline: ") + (error ? error->message : "unknown");
    return out;
  }
  auto in = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "in"));
  auto sink_element = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  gst_app_src_set_caps(GST_APP_SRC(in.get()), gst_sample_get_caps(keyframe));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  GstBuffer *buffer = gst_buffer_copy(gst_sample_get_buffer(keyframe));
  GST_BUFFER_PTS(buffer) = 0;
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  gst_app_src_push_buffer(GST_APP_SRC(in.get()), buffer);
  gst_app_src_end_of_stream(GST_APP_SRC(in.get()));
  if (auto jpeg = adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink_element.get()), kTimeout))) {
    GstMapInfo map;
    GstBuffer *b = gst_sample_get_buffer(jpeg.get());
    if (b && gst_buffer_map(b, &map, GST_MAP_READ)) {
      out.bytes.assign(reinterpret_cast<const char *>(map.data), map.size);
      gst_buffer_unmap(b, &map);
    }
    const GstStructure *s = gst_caps_get_structure(gst_sample_get_caps(jpeg.get()), 0);
    gst_structure_get_int(s, "width", &out.width);
    gst_structure_get_int(s, "height", &out.height);
  }
  if (out.bytes.empty()) {
    auto bus = adopt(gst_element_get_bus(pipeline.get()));
    if (auto msg = adopt(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR))) {
      GError *raw_error = nullptr;
      gst_message_parse_error(msg.get(), &raw_error, nullptr);
      Owned<GError> e(raw_error);
      out.error = std::string("cannot decode the picture: ") + (e ? e->message : "unknown");
    } else {
      out.error = "no picture came out of the decoder within 3 s";
    }
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return out;
}
}  // namespace

void encode_jpeg(GstSample *keyframe, std::function<void(Jpeg)> done) {
  std::thread([keyframe = ref(keyframe), done = std::move(done)]() mutable {
    Jpeg jpeg = run(keyframe.get());
    keyframe.reset();
    post_to_main([jpeg = std::move(jpeg), done = std::move(done)]() mutable { done(std::move(jpeg)); });
  }).detach();
}

}  // namespace sl::agent
