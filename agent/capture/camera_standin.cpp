#include "camera_standin.hpp"

#include <algorithm>

namespace sl::agent {

namespace {

struct Format {
  const char *name;
  PixelKind kind;
  const char *raw;         // raw format, for Raw
  const char *encode;      // from raw I420 to what the camera hands over
  const char *input = "";  // H.264: the raw format its encoder takes, when not I420
};

// Encoders stand in for a camera's own: x264 (superfast keeps CABAC and the 8x8
// transform, so its SPS says main or high as asked; ultrafast would make every
// stream constrained baseline) with a short GOP (a camera's is often longer; the
// agent asks for keyframes for its viewers anyway) and the B-frames asked for.
constexpr const char *kX264 = "x264enc speed-preset=superfast key-int-max=15 bitrate=3000 ";
const Format kFormats[] = {
    {"yuyv", PixelKind::Raw, "YUY2", "videoconvert"},
    {"nv12", PixelKind::Raw, "NV12", "videoconvert"},
    {"mjpeg", PixelKind::MJPEG, "", "jpegenc quality=90"},
    {"h264-baseline", PixelKind::H264, "", "tune=zerolatency bframes=0 ! video/x-h264,profile=constrained-baseline"},
    {"h264-main", PixelKind::H264, "", "tune=zerolatency bframes=0 ! video/x-h264,profile=main"},
    {"h264-high", PixelKind::H264, "", "tune=zerolatency bframes=0 ! video/x-h264,profile=high"},
    {"h264-high-bframes", PixelKind::H264, "", "bframes=2 b-adapt=false ! video/x-h264,profile=high"},
    // Profiles no browser decodes, as some cameras and encoders send them.
    {"h264-high422", PixelKind::H264, "", "tune=zerolatency bframes=0 ! video/x-h264,profile=high-4:2:2", "Y42B"},
    {"h264-high10", PixelKind::H264, "", "tune=zerolatency bframes=0 ! video/x-h264,profile=high-10", "I420_10LE"},
};

}  // namespace

const std::vector<std::string> &standin_formats() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto &f : kFormats) out.emplace_back(f.name);
    return out;
  }();
  return names;
}

Result<CameraStandin> camera_standin(const std::string &format, const std::string &pattern, const ModeRequest &asked) {
  const auto *f =
      std::find_if(std::begin(kFormats), std::end(kFormats), [&](const Format &known) { return format == known.name; });
  if (f == std::end(kFormats)) {
    std::string names;
    for (const auto &n : standin_formats()) names += (names.empty() ? "" : ", ") + n;
    return fail("The camera stand-in has no format '" + format + "'; it emulates " + names + ".");
  }
  CameraStandin s;
  std::string encode = f->encode;
  if (f->kind == PixelKind::H264)
    encode = (*f->input ? std::string("videoconvert ! video/x-raw,format=") + f->input + " ! " : std::string()) +
             kX264 + encode + ",stream-format=byte-stream,alignment=au";
  s.element = "videotestsrc name=src is-live=true horizontal-speed=2 pattern=" + pattern +
              " ! capsfilter name=" + kStandinRawElement + " caps=video/x-raw,format=I420 ! " + encode;
  // Like a USB camera: a few common sizes, and the one asked for.
  const std::pair<int, int> sizes[] = {{asked.width, asked.height}, {640, 480}, {1280, 720}};
  for (const auto &size : sizes) {
    const bool listed = std::any_of(s.modes.begin(), s.modes.end(), [&](const CameraMode &o) {
      return o.width == size.first && o.height == size.second;
    });
    if (!listed)
      s.modes.push_back(CameraMode{f->kind, f->raw, size.first, size.second, double(std::max(asked.fps, 30))});
  }
  return s;
}

}  // namespace sl::agent
