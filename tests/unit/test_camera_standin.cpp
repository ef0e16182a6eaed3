// The camera stand-in (--source emulate:FORMAT): the modes it offers, and the
// plan it gets, which is the V4L2 path after the device: its caps in "srccaps",
// then converted, decoded, or passed through, as for a real camera.
#include "capture/camera_h264.hpp"
#include "capture/camera_standin.hpp"
#include "capture/sources.hpp"

#include <doctest/doctest.h>
#include <gst/gst.h>

#include <string>

using namespace sl::agent;

namespace {
CameraSettings emulating(const std::string &format) {
  CameraSettings s;
  s.source = std::string(kStandinPrefix) + format;
  s.pattern = "ball";
  s.width = 384;
  s.height = 216;
  s.fps = 15;
  return s;
}

SourcePlan planned(const std::string &format) {
  gst_init(nullptr, nullptr);
  auto plan = plan_source(emulating(format));
  if (!plan) FAIL(plan.error());
  return *plan;
}

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

bool has(const char *element) {
  gst_init(nullptr, nullptr);
  return gst_registry_check_feature_version(gst_registry_get(), element, 1, 0, 0);
}
}  // namespace

TEST_CASE("the stand-in emulates raw, MJPEG and H.264 cameras, and names them when asked for another") {
  CHECK(standin_formats() == std::vector<std::string>{"yuyv", "nv12", "mjpeg", "h264-baseline", "h264-main",
                                                      "h264-high", "h264-high-bframes", "h264-high422", "h264-high10"});
  auto unknown = camera_standin("h265", "smpte", {});
  REQUIRE_FALSE(unknown.ok());
  CHECK(contains(unknown.error(), "h264-high-bframes"));
}

TEST_CASE("it offers modes as a camera does, the size asked for among them") {
  auto s = camera_standin("mjpeg", "smpte", {400, 300, 25});
  REQUIRE(s);
  REQUIRE(s->modes.size() == 3);
  CHECK(s->modes[0].width == 400);
  CHECK(s->modes[0].height == 300);
  for (const auto &m : s->modes) CHECK(m.kind == PixelKind::MJPEG);
  auto yuyv = camera_standin("yuyv", "smpte", {});
  REQUIRE(yuyv);
  CHECK(yuyv->modes[0].format == "YUY2");
  // The stamp goes into its raw frames, before it converts or encodes them.
  CHECK(contains(yuyv->element,
                 std::string("capsfilter name=") + kStandinRawElement + " caps=video/x-raw,format=I420 ! "));
}

TEST_CASE("raw and MJPEG stand-ins take the V4L2 path: their format in srccaps, converted or decoded") {
  const SourcePlan yuyv = planned("yuyv");
  CHECK(yuyv.src_caps == "video/x-raw,format=YUY2,width=384,height=216,framerate=15/1");
  CHECK(contains(yuyv.description, " ! capsfilter name=srccaps caps=" + yuyv.src_caps +
                                       " ! videoconvert ! video/x-raw,format=I420 ! capsfilter name=rawcaps"));
  CHECK(yuyv.stamp_at == kStandinRawElement);
  CHECK(yuyv.mode.kind == PixelKind::Raw);
  CHECK(planned("nv12").mode.format == "NV12");
  const SourcePlan mjpeg = planned("mjpeg");
  CHECK(contains(mjpeg.description, "caps=image/jpeg,width=384,height=216,framerate=15/1 ! jpegdec ! videoconvert"));
  CHECK_FALSE(mjpeg.h264_passthrough);
}

TEST_CASE("H.264 stand-ins: passed through when browsers take it, decoded for encoding when they do not") {
  if (!has("x264enc") || !has("avdec_h264")) return;
  const SourcePlan high = planned("h264-high");
  CHECK(high.h264_passthrough);
  CHECK(contains(high.description,
                 std::string("caps=video/x-h264,width=384,height=216,framerate=15/1 ! ") + kPassThroughH264));
  REQUIRE(high.h264_profile);
  CHECK(high.h264_profile->profile_idc == 100);
  CHECK(contains(high.h264_note, "passed through as it is"));

  const SourcePlan bframes = planned("h264-high-bframes");
  CHECK_FALSE(bframes.h264_passthrough);
  CHECK(contains(bframes.description, "h264parse ! "));
  CHECK(contains(bframes.description, "capsfilter name=rawcaps"));
  CHECK(contains(bframes.h264_note, "B-frames"));
}
