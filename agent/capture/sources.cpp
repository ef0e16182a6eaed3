#include "sources.hpp"

#include "camera_h264_probe.hpp"
#include "camera_standin.hpp"

#include "gst_owned.hpp"
#include "rtsp_source.hpp"
#include "rtsp_url.hpp"
#include "v4l2_device.hpp"
#include "whep_source.hpp"
#include "whep_url.hpp"

#include <gst/gst.h>

#include <algorithm>
#include <cmath>

namespace sl::agent {

namespace {

double max_rate(const GValue *v) {
  if (!v) return 0;
  if (GST_VALUE_HOLDS_FRACTION(v))
    return double(gst_value_get_fraction_numerator(v)) / std::max(1, gst_value_get_fraction_denominator(v));
  if (GST_VALUE_HOLDS_FRACTION_RANGE(v)) return max_rate(gst_value_get_fraction_range_max(v));
  if (GST_VALUE_HOLDS_LIST(v)) {
    double best = 0;
    for (guint i = 0; i < gst_value_list_get_size(v); ++i)
      best = std::max(best, max_rate(gst_value_list_get_value(v, i)));
    return best;
  }
  return 0;
}

// Sizes given as ranges (some UVC drivers) are read as the size asked for, clamped.
int dimension(const GstStructure *s, const char *field, int wanted) {
  const GValue *v = gst_structure_get_value(s, field);
  if (!v) return 0;
  if (G_VALUE_HOLDS_INT(v)) return g_value_get_int(v);
  if (GST_VALUE_HOLDS_INT_RANGE(v))
    return std::clamp(wanted, gst_value_get_int_range_min(v), gst_value_get_int_range_max(v));
  return 0;
}

}  // namespace

bool element_available(const std::string &name) { return adopt(gst_element_factory_find(name.c_str())) != nullptr; }

std::vector<CameraMode> modes_from_caps(const GstCaps *caps) {
  std::vector<CameraMode> modes;
  for (guint i = 0; caps && i < gst_caps_get_size(caps); ++i) {
    const GstStructure *s = gst_caps_get_structure(caps, i);
    CameraMode m;
    const std::string name = gst_structure_get_name(s);
    if (name == "video/x-h264")
      m.kind = PixelKind::H264;
    else if (name == "image/jpeg")
      m.kind = PixelKind::MJPEG;
    else if (name == "video/x-raw") {
      m.kind = PixelKind::Raw;
      const char *fmt = gst_structure_get_string(s, "format");
      if (!fmt) continue;  // a list of formats: the fixed entries cover the useful ones
      m.format = fmt;
    } else
      continue;
    m.width = dimension(s, "width", 1280);
    m.height = dimension(s, "height", 720);
    m.fps = max_rate(gst_structure_get_value(s, "framerate"));
    if (m.width > 0 && m.height > 0) modes.push_back(m);
  }
  return modes;
}

namespace {
std::string size_caps(int width, int height, int fps) {
  return ",width=" + std::to_string(width) + ",height=" + std::to_string(height) + ",framerate=" + std::to_string(fps) +
         "/1";
}
}  // namespace

std::string mode_caps(const CameraMode &mode, int width, int height, int fps) {
  const std::string size = size_caps(width, height, fps);
  switch (mode.kind) {
    case PixelKind::H264:
      return "video/x-h264" + size;
    case PixelKind::MJPEG:
      return "image/jpeg" + size;
    case PixelKind::Raw:
      break;
  }
  return "video/x-raw,format=" + mode.format + size;
}

namespace {
// After the device, the one path of every V4L2 camera, real or stand-in: the
// mode chosen, its caps (element "srccaps"), then raw frames converted, MJPEG
// decoded, or H.264 passed through when browsers take it as it is (otherwise
// decoded, to be encoded again). `camera` is the element that stands where the
// device is; `stamp_at` names the element whose raw frames take the stamp.
Result<SourcePlan> plan_camera(const std::string &camera, const std::vector<CameraMode> &modes,
                               const std::string &stamp_at, const CameraSettings &s) {
  SourcePlan plan;
  auto mode = choose_mode(modes, {s.width, s.height, s.fps});
  if (!mode) return fail("Camera " + s.source + " offers no usable mode.");
  plan.width = mode->width;
  plan.height = mode->height;
  plan.fps = std::max(1, int(std::lround(std::min<double>(mode->fps, s.fps))));
  plan.modes = modes;
  plan.mode = *mode;
  plan.stamp_at = stamp_at;
  plan.src_caps = mode_caps(*mode, plan.width, plan.height, plan.fps);
  const std::string src = camera + " ! capsfilter name=srccaps caps=" + plan.src_caps;
  const std::string to_raw = " ! videoconvert ! video/x-raw,format=I420 ! capsfilter name=rawcaps";
  switch (mode->kind) {
    case PixelKind::H264: {
      auto seen = probe_camera_h264(src);
      if (!seen) return fail("Camera " + s.source + ": " + seen.error());
      const H264Verdict verdict = judge_camera_h264(*seen);
      plan.h264_note = verdict.summary;
      if (verdict.pass_through) {
        plan.h264_passthrough = true;
        plan.h264_profile = seen->sps->profile;
        plan.description = src + " ! " + kPassThroughH264;
        break;
      }
      auto decoder = choose_h264_decoder(element_available);
      if (!decoder) return fail(decoder.error());
      plan.description = src + " ! h264parse ! " + *decoder + to_raw;
      break;
    }
    case PixelKind::MJPEG:
      plan.description = src + " ! jpegdec" + to_raw;
      break;
    case PixelKind::Raw:
      plan.description = src + to_raw;
      break;
  }
  return plan;
}
}  // namespace

Result<SourcePlan> plan_source(const CameraSettings &s) {
  if (is_rtsp_source(s.source)) return plan_rtsp_source(s);  // IP cameras: rtsp_source.hpp
  if (is_whep_source(s.source)) return plan_whep_source(s);  // a WHEP server's stream: whep_source.hpp
  SourcePlan plan;
  if (s.source == "test") {
    plan.width = s.width;
    plan.height = s.height;
    plan.fps = s.fps;
    plan.src_caps = "video/x-raw,format=I420" + size_caps(s.width, s.height, s.fps);
    plan.description = "videotestsrc name=src is-live=true horizontal-speed=2 pattern=" + s.pattern +
                       (s.test_frames > 0 ? " num-buffers=" + std::to_string(s.test_frames) : std::string()) +
                       " ! capsfilter name=srccaps caps=" + plan.src_caps + " ! capsfilter name=rawcaps";
    return plan;
  }
  if (s.source == "libcamera" || s.source.rfind("libcamera:", 0) == 0) {
    // CSI cameras through libcamera (the Pi's camera modules): the ISP gives raw
    // frames at the size asked for. The rate is capped after the source, as
    // older libcamerasrc (Debian 12's 0.0.3) does not negotiate a frame rate.
    plan.width = s.width;
    plan.height = s.height;
    plan.fps = s.fps;
    plan.src_caps = "video/x-raw,width=" + std::to_string(s.width) + ",height=" + std::to_string(s.height);
    const std::string name = s.source.size() > 10 ? s.source.substr(10) : "";
    plan.description = "libcamerasrc name=src" + (name.empty() ? "" : " camera-name=\"" + name + "\"") +
                       " ! capsfilter name=srccaps caps=" + plan.src_caps +
                       " ! videorate drop-only=true max-rate=" + std::to_string(s.fps) +
                       " ! videoconvert ! video/x-raw,format=I420 ! capsfilter name=rawcaps";
    return plan;
  }
  if (s.source.rfind(kStandinPrefix, 0) == 0) {
    auto standin =
        camera_standin(s.source.substr(std::string(kStandinPrefix).size()), s.pattern, {s.width, s.height, s.fps});
    if (!standin) return fail(standin.error());
    return plan_camera(standin->element, standin->modes, kStandinRawElement, s);
  }
  const std::string device = s.source.substr(5);
  auto probed = probe_v4l2_modes(device);
  // Not there now (unplugged at boot): start anyway, and the camera is retried.
  if (!probed && probed.error().trouble != V4l2Trouble::Unusable) return plan_absent_v4l2(device, probed.error(), s);
  if (!probed) return fail(probed.error().message);
  auto planned = plan_camera("v4l2src name=src device=" + device + " do-timestamp=true", *probed, "rawcaps", s);
  if (planned) planned->explain_error = [device](const GError *error) { return describe_v4l2_error(error, device); };
  return planned;
}

}  // namespace sl::agent
