// Which encoder to use, decided from what the machine has: the hardware H.264
// encoder first, then x264 (zero latency), then openh264, VP8 last. Pure logic,
// and the one place that knows each encoder's settings: the pipeline builds the
// chosen encoder from describe_encoder() and changes its bitrate live with
// bitrate_setting().
#pragma once

#include "result.hpp"

#include <functional>
#include <string>

namespace sl::agent {

enum class Codec { H264, VP8, Opus };

struct EncoderChoice {
  std::string element;  // "v4l2h264enc", "x264enc", "openh264enc", "vp8enc", or "passthrough"
  Codec codec = Codec::H264;
};

// `forced` is "auto" or an element name; `available` says whether an element
// factory exists. Returns the choice or a sentence saying what is wrong.
Result<EncoderChoice> choose_encoder(const std::string &forced,
                                     const std::function<bool(const std::string &)> &available);

// gst-launch description of the encoding chain from raw video to encoded
// frames ready for the tee (byte-stream H.264 with SPS/PPS on every IDR, or VP8).
// The encoder element is named `name` (a camera's lower encoding has its own).
std::string describe_encoder(const EncoderChoice &choice, int bitrate_kbps, int fps, int keyframe_interval_s = 2,
                             const std::string &name = "encoder");

// How a running encoder takes a new bitrate: its property and the value as text
// (gst_util_set_object_arg), or why it cannot (the camera's own H.264).
struct BitrateSetting {
  std::string property, value;
};
Result<BitrateSetting> bitrate_setting(const std::string &element, int bitrate_kbps);

const char *codec_name(Codec c);  // "H264" / "VP8"

}  // namespace sl::agent
