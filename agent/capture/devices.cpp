#include "devices.hpp"

#include "gst_owned.hpp"
#include "sources.hpp"

#include <gst/gst.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace sl::agent {

namespace {

// The 'source' setting that opens this device, from the element it makes.
std::string source_of(GstDevice *device) {
  auto element = sink(gst_device_create_element(device, nullptr));
  if (!element) return {};
  GstElementFactory *factory = gst_element_get_factory(element.get());
  const std::string kind = factory ? GST_OBJECT_NAME(factory) : "";
  gchar *value = nullptr;
  if (kind == "v4l2src") {
    g_object_get(element.get(), "device", &value, nullptr);
    return value ? "v4l2:" + take_string(value) : std::string();
  }
  if (kind == "libcamerasrc") {
    g_object_get(element.get(), "camera-name", &value, nullptr);
    return value ? "libcamera:" + take_string(value) : std::string("libcamera");
  }
  return {};  // other providers (PipeWire, ...) show the same cameras again
}

std::string format_name(const CameraMode &m) {
  switch (m.kind) {
    case PixelKind::H264:
      return "H.264 (passed through, no encoding)";
    case PixelKind::MJPEG:
      return "MJPEG";
    case PixelKind::Raw:
      break;
  }
  return m.format;
}

}  // namespace

std::vector<CameraDevice> list_cameras() {
  auto monitor = adopt(gst_device_monitor_new());
  gst_device_monitor_add_filter(monitor.get(), "Video/Source", nullptr);
  std::vector<CameraDevice> out;
  GList *devices = gst_device_monitor_get_devices(monitor.get());
  for (GList *l = devices; l; l = l->next) {
    GstDevice *device = GST_DEVICE(l->data);
    CameraDevice camera;
    camera.source = source_of(device);
    if (camera.source.empty()) continue;
    camera.name = take_string(gst_device_get_display_name(device));
    if (auto caps = adopt(gst_device_get_caps(device))) camera.modes = modes_from_caps(caps.get());
    out.push_back(std::move(camera));
  }
  g_list_free_full(devices, gst_object_unref);
  return out;
}

std::string camera_groups(const std::vector<CameraDevice> &cameras) {
  std::string out;
  std::map<std::string, int> taken;
  for (const auto &camera : cameras) {
    std::string name;
    for (char c : camera.name) {
      if (g_ascii_isalnum(c))
        name += g_ascii_tolower(c);
      else if (!name.empty() && name.back() != '-')
        name += '-';
      if (name.size() >= 40) break;
    }
    while (!name.empty() && name.back() == '-') name.pop_back();
    if (name.empty()) name = "camera";
    if (int n = ++taken[name]; n > 1) name += "-" + std::to_string(n);
    out += "[camera " + name + "]\nsource=" + camera.source + "\n\n";
  }
  return out;
}

namespace {
// IP cameras are not looked for on the network (no ONVIF discovery): their address is given.
constexpr const char *kIpCameras =
    "IP cameras: --source rtsp://HOST[:PORT]/PATH with --rtsp-credentials-file (--check shows what one sends)\n";
}  // namespace

std::string describe_cameras(const std::vector<CameraDevice> &cameras) {
  if (cameras.empty())
    return std::string(
               "No cameras found (no V4L2 or libcamera video source on this machine; is the camera plugged "
               "in and this user in the video group?). The test source always works: --source test\n") +
           kIpCameras;
  std::string out;
  for (const auto &camera : cameras) {
    out += camera.name + "\n  source=" + camera.source + "\n";
    std::map<std::string, std::vector<CameraMode>> by_format;
    for (const auto &m : camera.modes) by_format[format_name(m)].push_back(m);
    for (auto &[format, modes] : by_format) {
      std::sort(modes.begin(), modes.end(),
                [](const CameraMode &a, const CameraMode &b) { return a.width * a.height > b.width * b.height; });
      out += "  " + format + ":";
      for (size_t i = 0; i < modes.size(); ++i) {
        if (i > 0 && modes[i].width == modes[i - 1].width && modes[i].height == modes[i - 1].height) continue;
        out += " " + std::to_string(modes[i].width) + "x" + std::to_string(modes[i].height);
        if (modes[i].fps > 0) out += "@" + std::to_string(int(std::lround(modes[i].fps)));
      }
      out += "\n";
    }
    if (camera.modes.empty()) out += "  (formats are known once the camera is opened)\n";
  }
  if (cameras.size() > 1)
    out +=
        "\nAll of them on this agent: these groups in its config file (one camera each; its other keys as in\n"
        "[agent]: width, height, fps, bitrate, encoder):\n\n" +
        camera_groups(cameras);
  return out + kIpCameras;
}

}  // namespace sl::agent
