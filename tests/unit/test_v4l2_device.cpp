// A V4L2 camera whose device is missing or cannot be opened at start-up: its
// probe says which, plan_source still plans it (retried, not fatal), the plan
// takes any format the device gives and builds, and v4l2src's errors read as
// sentences naming the device. No camera needed.
#include "capture/sources.hpp"
#include "capture/v4l2_device.hpp"

#include <doctest/doctest.h>
#include <gst/gst.h>

#include <string>

using namespace sl::agent;

namespace {
struct GstReady {
  GstReady() { gst_init(nullptr, nullptr); }
} gst_ready;

constexpr const char *kMissing = "/dev/video-sightline-unit-missing";

CameraSettings missing_camera() {
  CameraSettings s;
  s.id = "house/garage";
  s.source = std::string("v4l2:") + kMissing;
  s.width = 640;
  s.height = 480;
  s.fps = 15;
  return s;
}

bool has(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("a device that is not there is told apart from one that will not do") {
  auto probed = probe_v4l2_modes(kMissing);
  REQUIRE_FALSE(probed.ok());
  CHECK(probed.error().trouble == V4l2Trouble::Missing);
  CHECK(has(probed.error().message, std::string("Cannot open camera ") + kMissing + ": no such device"));
  // A node that is no camera stops start-up: retrying would not change it.
  auto not_a_camera = probe_v4l2_modes("/dev/null");
  REQUIRE_FALSE(not_a_camera.ok());
  CHECK(not_a_camera.error().trouble == V4l2Trouble::Unusable);
  CHECK(has(not_a_camera.error().message, "Camera /dev/null cannot be used"));
  CameraSettings s = missing_camera();
  s.source = "v4l2:/dev/null";
  CHECK_FALSE(plan_source(s).ok());
}

TEST_CASE("a missing device is planned anyway: any format, decoded and scaled to the size asked for") {
  auto planned = plan_source(missing_camera());
  REQUIRE(planned.ok());
  const SourcePlan &plan = *planned;
  CHECK(has(plan.unreachable, kMissing));
  CHECK(has(plan.unreachable, "no such device"));
  CHECK(has(plan.summary, "keeps retrying"));
  CHECK(has(plan.summary, "restarted with the camera present"));
  CHECK(has(plan.summary, "640x480@15"));
  CHECK_FALSE(plan.h264_passthrough);
  CHECK(plan.modes.empty());  // set_video treats it as a source of any size (scaled)
  CHECK(plan.width == 640);
  CHECK(plan.height == 480);
  CHECK(plan.fps == 15);
  CHECK(has(plan.description, std::string("v4l2src name=src device=") + kMissing));
  for (const char *format : {"image/jpeg", "video/x-raw", "video/x-h264"}) CHECK(has(plan.description, format));
  CHECK(has(plan.description, "decodebin"));
  CHECK(has(plan.description, "capsfilter name=srccaps caps=video/x-raw,width=640,height=480,framerate=15/1"));
  CHECK(plan.description.ends_with("video/x-raw,format=I420 ! capsfilter name=rawcaps"));
  CHECK(plan.stamp_at == "rawcaps");
  REQUIRE(plan.configure);
  REQUIRE(plan.explain_error);
}

TEST_CASE("the missing device's plan builds, and its start fails naming the device") {
  auto planned = plan_source(missing_camera());
  REQUIRE(planned.ok());
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch((planned->description + " ! fakesink").c_str(), &error);
  REQUIRE(pipeline);
  CHECK(error == nullptr);
  if (error) g_error_free(error);
  planned->configure(pipeline);
  CHECK(gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  REQUIRE(m);
  GError *why = nullptr;
  gst_message_parse_error(m, &why, nullptr);
  CHECK(has(planned->explain_error(why), std::string("Cannot open camera ") + kMissing + ": no such device"));
  g_error_free(why);
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}

TEST_CASE("v4l2src's errors read as sentences naming the device") {
  auto text = [](GstResourceError code, const char *message) {
    GError *e = g_error_new_literal(GST_RESOURCE_ERROR, code, message);
    std::string out = describe_v4l2_error(e, "/dev/video7");
    g_error_free(e);
    return out;
  };
  CHECK(has(text(GST_RESOURCE_ERROR_NOT_FOUND, "Cannot identify device"), "/dev/video7: no such device"));
  CHECK(has(text(GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Could not open"), "video group"));
  CHECK(has(text(GST_RESOURCE_ERROR_BUSY, "Device is busy"), "in use by another program"));
  CHECK(text(GST_RESOURCE_ERROR_READ, "Could not read from resource.") ==
        "Camera /dev/video7: Could not read from resource.");
  CHECK(describe_v4l2_error(nullptr, "/dev/video7") == "Camera /dev/video7: failed.");
}

TEST_CASE("what the device gives comes out decoded at the size asked for, at every start") {
  auto planned = plan_source(missing_camera());
  REQUIRE(planned.ok());
  // The device stood in for by MJPEG of another size: decodebin's pad must be
  // linked by the plan at each start (a retry makes a new one), and scaled.
  std::string description = planned->description;
  const std::string device = std::string("v4l2src name=src device=") + kMissing + " do-timestamp=true";
  REQUIRE(description.find(device) == 0);
  description.replace(0, device.size(),
                      "videotestsrc name=src is-live=true ! video/x-raw,width=320,height=240 ! jpegenc");
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch((description + " ! fakesink name=out").c_str(), &error);
  REQUIRE(pipeline);
  CHECK(error == nullptr);
  if (error) g_error_free(error);
  planned->configure(pipeline);
  GstElement *out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  GstPad *pad = gst_element_get_static_pad(out, "sink");
  GstBus *bus = gst_element_get_bus(pipeline);
  for (int start = 0; start < 2; ++start) {
    CAPTURE(start);
    REQUIRE(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    GstCaps *caps = nullptr;
    for (int i = 0; i < 100 && !caps; ++i) {
      if (GstMessage *m = gst_bus_timed_pop_filtered(bus, 50 * GST_MSECOND, GST_MESSAGE_ERROR)) {
        gst_message_unref(m);
        FAIL("the pipeline failed");
      }
      caps = gst_pad_get_current_caps(pad);
    }
    REQUIRE(caps);
    const GstStructure *st = gst_caps_get_structure(caps, 0);
    int width = 0, height = 0;
    gst_structure_get_int(st, "width", &width);
    gst_structure_get_int(st, "height", &height);
    CHECK(std::string(gst_structure_get_string(st, "format")) == "I420");
    CHECK(width == 640);
    CHECK(height == 480);
    gst_caps_unref(caps);
    gst_element_set_state(pipeline, GST_STATE_NULL);
  }
  gst_object_unref(bus);
  gst_object_unref(pad);
  gst_object_unref(out);
  gst_object_unref(pipeline);
}
