// Video sources: the moving test pattern, V4L2 cameras (USB, or CSI through
// the V4L2 layer) probed for the modes they offer, the camera stand-in for
// tests and demos (camera_standin.hpp, on the same path as V4L2 cameras), and
// libcamera (CSI camera modules on a Raspberry Pi). Produces the gst-launch
// description of the source up to raw I420 frames (or the camera's own H.264).
#pragma once

#include "h264_bitstream.hpp"
#include "result.hpp"
#include "settings.hpp"
#include "source_choice.hpp"

#include <gst/gst.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sl::agent {

struct SourcePlan {
  std::string description;  // ends in raw I420 (element "rawcaps"), or in H.264 when h264_passthrough
  bool h264_passthrough = false;
  int width = 0;
  int height = 0;
  int fps = 0;
  std::string src_caps;           // the caps of element "srccaps", right after the source
  std::vector<CameraMode> modes;  // V4L2: what the camera offers
  CameraMode mode;                // V4L2: the one captured
  std::string summary;            // what the source offers and what is done with it (--check, the log)
  // Why the source cannot be reached now (an IP camera down, a V4L2 device
  // missing): the plan starts anyway and the camera is retried, but a check
  // says so. Empty when it can.
  std::string unreachable;
  // Applied to the built pipeline before it plays: what must not be written in
  // the description, which is logged (an IP camera's credentials).
  std::function<void(GstElement *pipeline)> configure;
  // A source with a session of its own beside the pipeline (a WHEP client):
  // started each time the pipeline has been set playing, ended each time it
  // has been stopped; on the main loop.
  std::function<void(GstElement *pipeline)> start, stop;
  // A live source that delivers no frame for this long has failed (0: never
  // judged so): an IP camera that stops sending without closing its connection.
  unsigned stall_timeout_ms = 0;
  // The source element's errors (element "src") as a sentence for the user.
  std::function<std::string(const GError *error)> explain_error;
  // An IP camera's own sound (audio = camera), decoded to raw audio: the source
  // of the agent's Opus chain (describe_audio). Empty: none to send.
  std::string audio;
  std::string audio_note;                    // what the camera's sound is and what is done with it (the log, --check)
  std::string stamp_at = "rawcaps";          // the element whose raw I420 frames take the latency stamp
  std::string h264_note;                     // a camera's own H.264: what was found, and passed through or not
  std::optional<ProfileLevel> h264_profile;  // a camera's own H.264 passed through: its SPS's profile and level
};

// The caps that ask a V4L2 camera for `mode`'s format at this size and rate.
std::string mode_caps(const CameraMode &mode, int width, int height, int fps);

Result<SourcePlan> plan_source(const CameraSettings &settings);

// Whether this machine's GStreamer has an element factory of that name.
bool element_available(const std::string &name);

// The modes in a source's caps (H.264, MJPEG, raw formats), highest rate per size.
std::vector<CameraMode> modes_from_caps(const GstCaps *caps);

}  // namespace sl::agent
