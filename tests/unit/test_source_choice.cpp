// V4L2 mode choice: H.264 first, then MJPEG, then raw; size and rate closest to the request.
#include "capture/source_choice.hpp"

#include <doctest/doctest.h>

using namespace sl::agent;

TEST_CASE("the camera's own H.264 wins at the same size and rate") {
  std::vector<CameraMode> modes = {
      {PixelKind::Raw, "YUY2", 1280, 720, 10},
      {PixelKind::MJPEG, "", 1280, 720, 30},
      {PixelKind::H264, "", 1280, 720, 30},
  };
  auto m = choose_mode(modes, {1280, 720, 30});
  REQUIRE(m);
  CHECK(m->kind == PixelKind::H264);
}

TEST_CASE("MJPEG beats raw when raw cannot keep the rate") {
  std::vector<CameraMode> modes = {
      {PixelKind::Raw, "YUY2", 1280, 720, 10},
      {PixelKind::MJPEG, "", 1280, 720, 30},
  };
  CHECK(choose_mode(modes, {1280, 720, 30})->kind == PixelKind::MJPEG);
}

TEST_CASE("raw is used when it is the only way to the size asked") {
  std::vector<CameraMode> modes = {
      {PixelKind::Raw, "YUY2", 640, 480, 30},
      {PixelKind::MJPEG, "", 1920, 1080, 30},
  };
  auto m = choose_mode(modes, {640, 480, 30});
  CHECK(m->kind == PixelKind::Raw);
  CHECK(m->format == "YUY2");
}

TEST_CASE("the nearest size; larger preferred over smaller") {
  std::vector<CameraMode> modes = {
      {PixelKind::MJPEG, "", 640, 480, 30},
      {PixelKind::MJPEG, "", 1920, 1080, 30},
      {PixelKind::MJPEG, "", 1280, 720, 30},
  };
  CHECK(choose_mode(modes, {1280, 720, 30})->width == 1280);
  CHECK(choose_mode(modes, {1024, 600, 30})->width == 1280);
  CHECK_FALSE(choose_mode({}, {1280, 720, 30}));
}
