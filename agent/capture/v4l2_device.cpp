#include "v4l2_device.hpp"

#include "gst_owned.hpp"

#include <gst/gst.h>

namespace sl::agent {

namespace {

// decodebin makes a new pad each time the device is opened (each retry), so it
// is linked here every time; gst_parse_launch's own delayed link would link
// the first one only.
void link_decoded_pad(GstElement *decodebin, GstPad *pad, gpointer) {
  auto pipeline = adopt(gst_object_get_parent(GST_OBJECT(decodebin)));
  if (!pipeline || !GST_IS_BIN(pipeline.get())) return;
  auto next = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "decoded"));
  auto next_sink = next ? adopt(gst_element_get_static_pad(next.get(), "sink")) : nullptr;
  if (!next_sink || gst_pad_is_linked(next_sink.get())) return;
  if (GST_PAD_LINK_FAILED(gst_pad_link(pad, next_sink.get())))
    GST_ELEMENT_ERROR(decodebin, CORE, NEGOTIATION, ("the camera's decoded video cannot be scaled"), (nullptr));
}

std::string size_fields(int width, int height) {
  return ",width=" + std::to_string(width) + ",height=" + std::to_string(height);
}

}  // namespace

Result<std::vector<CameraMode>, V4l2ProbeError> probe_v4l2_modes(const std::string &device) {
  auto src = sink(gst_element_factory_make("v4l2src", nullptr));
  if (!src)
    return fail(
        V4l2ProbeError{V4l2Trouble::Unusable, "GStreamer's v4l2src is missing: install gstreamer1.0-plugins-good."});
  // Told apart before opening: v4l2src reports a missing node and one that is
  // no camera alike (NOT_FOUND).
  if (!g_file_test(device.c_str(), G_FILE_TEST_EXISTS))
    return fail(V4l2ProbeError{V4l2Trouble::Missing, v4l2_trouble_text(V4l2Trouble::Missing, device)});
  g_object_set(src.get(), "device", device.c_str(), nullptr);
  // A bus of its own, to read why it would not open.
  auto bus = adopt(gst_bus_new());
  gst_element_set_bus(src.get(), bus.get());
  if (gst_element_set_state(src.get(), GST_STATE_READY) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state(src.get(), GST_STATE_NULL);
    auto m = adopt(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    GError *raw = nullptr;
    if (m) gst_message_parse_error(m.get(), &raw, nullptr);
    Owned<GError> e(raw);
    // Not openable now (permissions, another program) may change; a node that
    // is no camera (a UVC camera's metadata node, /dev/null) will not.
    const bool may_change =
        !e || (e->domain == GST_RESOURCE_ERROR &&
               (e->code == GST_RESOURCE_ERROR_OPEN_READ || e->code == GST_RESOURCE_ERROR_OPEN_WRITE ||
                e->code == GST_RESOURCE_ERROR_OPEN_READ_WRITE || e->code == GST_RESOURCE_ERROR_BUSY));
    if (may_change)
      return fail(V4l2ProbeError{V4l2Trouble::Unopenable, v4l2_trouble_text(V4l2Trouble::Unopenable, device)});
    std::string message = e->message ? e->message : "";
    while (!message.empty() && message.back() == '.') message.pop_back();
    return fail(V4l2ProbeError{V4l2Trouble::Unusable, "Camera " + device + " cannot be used (" + message +
                                                          "); --list-devices shows the cameras here."});
  }
  auto pad = adopt(gst_element_get_static_pad(src.get(), "src"));
  auto caps = adopt(gst_pad_query_caps(pad.get(), nullptr));
  std::vector<CameraMode> modes = modes_from_caps(caps.get());
  gst_element_set_state(src.get(), GST_STATE_NULL);
  if (modes.empty())
    return fail(V4l2ProbeError{V4l2Trouble::Unusable, v4l2_trouble_text(V4l2Trouble::Unusable, device)});
  return modes;
}

std::string v4l2_trouble_text(V4l2Trouble trouble, const std::string &device) {
  switch (trouble) {
    case V4l2Trouble::Missing:
      return "Cannot open camera " + device +
             ": no such device (is it plugged in? --list-devices shows the cameras here).";
    case V4l2Trouble::Unopenable:
      return "Cannot open camera " + device +
             " (may this user read it? try the video group; or another program holds it).";
    case V4l2Trouble::Unusable:
      break;
  }
  return "Camera " + device + " offers no video format this agent can use.";
}

std::string describe_v4l2_error(const GError *error, const std::string &device) {
  if (error && error->domain == GST_RESOURCE_ERROR) switch (error->code) {
      case GST_RESOURCE_ERROR_NOT_FOUND:
        return v4l2_trouble_text(V4l2Trouble::Missing, device);
      case GST_RESOURCE_ERROR_OPEN_READ:
      case GST_RESOURCE_ERROR_OPEN_WRITE:
      case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
        return v4l2_trouble_text(V4l2Trouble::Unopenable, device);
      case GST_RESOURCE_ERROR_BUSY:
        return "Camera " + device + " is in use by another program.";
      default:
        break;
    }
  std::string message = error && error->message ? error->message : "failed";
  while (!message.empty() && message.back() == '.') message.pop_back();
  return "Camera " + device + ": " + message + ".";
}

SourcePlan plan_absent_v4l2(const std::string &device, const V4l2ProbeError &why, const CameraSettings &s) {
  SourcePlan plan;
  plan.width = s.width;
  plan.height = s.height;
  plan.fps = s.fps;
  plan.unreachable = why.message;
  // The size asked for first: the device is asked for it in any format before
  // taking another size, which is then scaled.
  const std::string size = size_fields(s.width, s.height);
  const std::string any_format = "\"image/jpeg" + size + "; video/x-raw" + size + "; video/x-h264" + size +
                                 "; image/jpeg; video/x-raw; video/x-h264\"";
  // No modes: the output's size and rate can change (set_video) as the test
  // source's do, by the scaler after the decoder ("srccaps").
  plan.src_caps = "video/x-raw" + size + ",framerate=" + std::to_string(s.fps) + "/1";
  plan.description = "v4l2src name=src device=" + device +
                     " do-timestamp=true ! capsfilter name=anyformat caps=" + any_format +
                     " ! decodebin name=anydecode  videoconvert name=decoded ! videoscale ! videorate" +
                     " ! capsfilter name=srccaps caps=" + plan.src_caps +
                     " ! videoconvert ! video/x-raw,format=I420 ! capsfilter name=rawcaps";
  plan.configure = [](GstElement *pipeline) {
    auto decodebin = adopt(gst_bin_get_by_name(GST_BIN(pipeline), "anydecode"));
    if (decodebin) g_signal_connect(decodebin.get(), "pad-added", G_CALLBACK(link_decoded_pad), nullptr);
  };
  plan.explain_error = [device](const GError *error) { return describe_v4l2_error(error, device); };
  // Logged before the agent knows whether it goes on without the camera (it
  // stops when this is its only one): true either way.
  plan.summary = "v4l2:" + device + ": " + why.message +
                 " With other cameras the agent starts without it and keeps retrying it; until the agent is "
                 "restarted with the camera present, whatever the camera gives is decoded, scaled to " +
                 std::to_string(s.width) + "x" + std::to_string(s.height) + "@" + std::to_string(s.fps) +
                 " and encoded (its mode, and whether its own H.264 is passed through, are chosen at start-up).";
  return plan;
}

}  // namespace sl::agent
