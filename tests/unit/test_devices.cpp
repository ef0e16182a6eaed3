// What --list-devices prints, the modes read from a camera's caps, and the
// libcamera source plan (no camera needed for any of it).
#include "capture/devices.hpp"
#include "capture/sources.hpp"

#include <doctest/doctest.h>
#include <gst/gst.h>

using namespace sl::agent;

namespace {
struct GstReady {
  GstReady() { gst_init(nullptr, nullptr); }
} gst_ready;
}  // namespace

TEST_CASE("modes come from a camera's caps: H.264, MJPEG, raw, with the highest rate") {
  GstCaps *caps = gst_caps_from_string(
      "video/x-h264, width=1920, height=1080, framerate={ 30/1, 15/1 }; "
      "image/jpeg, width=1280, height=720, framerate=60/1; "
      "video/x-raw, format=YUY2, width=640, height=480, framerate=[ 5/1, 30/1 ]; "
      "video/x-raw, format={ NV12, I420 }, width=320, height=240; "
      "audio/x-raw, rate=48000");
  REQUIRE(caps);
  const auto modes = modes_from_caps(caps);
  gst_caps_unref(caps);
  REQUIRE(modes.size() == 3);  // the format list and the audio are skipped
  CHECK(modes[0].kind == PixelKind::H264);
  CHECK(modes[0].width == 1920);
  CHECK(modes[0].fps == doctest::Approx(30));
  CHECK(modes[1].kind == PixelKind::MJPEG);
  CHECK(modes[1].fps == doctest::Approx(60));
  CHECK(modes[2].format == "YUY2");
  CHECK(modes[2].fps == doctest::Approx(30));
}

TEST_CASE("the camera list names the source setting and groups sizes by format") {
  CameraDevice usb{"HD Webcam",
                   "v4l2:/dev/video0",
                   {{PixelKind::MJPEG, "", 640, 480, 30},
                    {PixelKind::MJPEG, "", 1920, 1080, 30},
                    {PixelKind::Raw, "YUY2", 640, 480, 30},
                    {PixelKind::Raw, "YUY2", 640, 480, 15}}};
  CameraDevice csi{"imx708", "libcamera:/base/soc/i2c0mux/i2c@1/imx708@1a", {}};
  const std::string text = describe_cameras({usb, csi});
  CHECK(text.find("HD Webcam\n  source=v4l2:/dev/video0\n") != std::string::npos);
  CHECK(text.find("  MJPEG: 1920x1080@30 640x480@30\n") != std::string::npos);
  CHECK(text.find("  YUY2: 640x480@30\n") != std::string::npos);  // one line per size
  CHECK(text.find("source=libcamera:/base/soc/i2c0mux/i2c@1/imx708@1a") != std::string::npos);
  CHECK(text.find("formats are known once the camera is opened") != std::string::npos);
  // Two or more: the config groups that run them all on one agent.
  CHECK(text.find("[camera hd-webcam]\nsource=v4l2:/dev/video0\n") != std::string::npos);
  CHECK(text.find("[camera imx708]\nsource=libcamera:/base/soc/i2c0mux/i2c@1/imx708@1a\n") != std::string::npos);
  CHECK(describe_cameras({usb}).find("[camera") == std::string::npos);
}

TEST_CASE("config groups for the cameras found get names that are ids, and unique") {
  const std::string groups = camera_groups({{"HD Pro Webcam C920", "v4l2:/dev/video0", {}},
                                            {"HD Pro Webcam C920", "v4l2:/dev/video2", {}},
                                            {"  ", "v4l2:/dev/video4", {}}});
  CHECK(groups ==
        "[camera hd-pro-webcam-c920]\nsource=v4l2:/dev/video0\n\n"
        "[camera hd-pro-webcam-c920-2]\nsource=v4l2:/dev/video2\n\n"
        "[camera camera]\nsource=v4l2:/dev/video4\n\n");
}

TEST_CASE("no camera at all is said plainly") {
  const std::string text = describe_cameras({});
  CHECK(text.rfind("No cameras found", 0) == 0);
  CHECK(text.find("--source test") != std::string::npos);
  CHECK(text.find("--source rtsp://") != std::string::npos);  // IP cameras are given, not found
}

TEST_CASE("a libcamera source is planned without opening the camera, the rate capped after it") {
  CameraSettings s;
  s.source = "libcamera:/base/soc/i2c0mux/i2c@1/imx708@1a";
  s.width = 1280;
  s.height = 720;
  s.fps = 25;
  auto plan = plan_source(s);
  REQUIRE(plan.ok());
  const auto &p = *plan;
  CHECK(p.description.find("libcamerasrc name=src camera-name=\"/base/soc/i2c0mux/i2c@1/imx708@1a\"") == 0);
  CHECK(p.description.find("video/x-raw,width=1280,height=720") != std::string::npos);
  CHECK(p.description.find("videorate drop-only=true max-rate=25") != std::string::npos);
  CHECK(p.description.find("capsfilter name=rawcaps") != std::string::npos);
  CHECK_FALSE(p.h264_passthrough);
  s.source = "libcamera";
  CHECK(plan_source(s)->description.rfind("libcamerasrc name=src !", 0) == 0);
}
