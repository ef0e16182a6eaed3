#include "encoder_choice.hpp"

#include <array>

namespace sl::agent {

namespace {
struct Known {
  const char *element;
  Codec codec;
};
// In order of preference.
constexpr std::array<Known, 4> kKnown{{
    {"v4l2h264enc", Codec::H264},
    {"x264enc", Codec::H264},
    {"openh264enc", Codec::H264},
    {"vp8enc", Codec::VP8},
}};

// Browser-safe H.264: constrained baseline, byte-stream, whole access units, and
// parameter sets repeated so a viewer can start at any keyframe.
constexpr const char *kH264Tail =
    " ! video/x-h264,profile=constrained-baseline,stream-format=byte-stream,alignment=au"
    " ! h264parse config-interval=-1"
    " ! video/x-h264,stream-format=byte-stream,alignment=au";
}  // namespace

const char *codec_name(Codec c) { return c == Codec::H264 ? "H264" : c == Codec::VP8 ? "VP8" : "OPUS"; }

Result<EncoderChoice> choose_encoder(const std::string &forced,
                                     const std::function<bool(const std::string &)> &available) {
  if (forced.empty() || forced == "auto") {
    for (const auto &k : kKnown)
      if (available(k.element)) return EncoderChoice{k.element, k.codec};
    return fail(
        "No video encoder found: install gstreamer1.0-plugins-ugly (x264enc) or gstreamer1.0-plugins-good (vp8enc).");
  }
  for (const auto &k : kKnown) {
    if (forced != k.element) continue;
    if (!available(k.element))
      return fail("Setting 'encoder' asks for " + forced +
                  ", which this machine does not have (is its GStreamer plugin installed?).");
    return EncoderChoice{k.element, k.codec};
  }
  return fail("Setting 'encoder' must be auto, v4l2h264enc, x264enc, openh264enc or vp8enc, not '" + forced + "'.");
}

Result<BitrateSetting> bitrate_setting(const std::string &element, int bitrate_kbps) {
  const std::string bps = std::to_string(bitrate_kbps * 1000);
  if (element == "x264enc") return BitrateSetting{"bitrate", std::to_string(bitrate_kbps)};  // kbit/s
  if (element == "openh264enc") return BitrateSetting{"bitrate", bps};
  if (element == "vp8enc") return BitrateSetting{"target-bitrate", bps};
  // The Pi 4's encoder (bcm2835-codec) takes its settings as V4L2 controls.
  if (element == "v4l2h264enc") return BitrateSetting{"extra-controls", "controls,video_bitrate=" + bps};
  if (element == "passthrough")
    return fail("the camera encodes its own H.264 here; its bitrate is not adjustable by the agent");
  return fail("encoder " + element + " has no bitrate setting");
}

std::string describe_encoder(const EncoderChoice &c, int bitrate_kbps, int fps, int keyframe_interval_s,
                             const std::string &name) {
  const int gop = fps * keyframe_interval_s;  // viewers joining force a keyframe at once anyway
  auto rate = bitrate_setting(c.element, bitrate_kbps);
  const std::string bitrate = rate ? " " + rate->property + "=" + rate->value : "";
  if (c.element == "x264enc")
    return "x264enc name=" + name +
           " tune=zerolatency speed-preset=ultrafast bframes=0 key-int-max=" + std::to_string(gop) + bitrate +
           " vbv-buf-capacity=200" + kH264Tail;
  if (c.element == "openh264enc")
    return "openh264enc name=" + name +
           " usage-type=camera complexity=low rate-control=bitrate gop-size=" + std::to_string(gop) + bitrate +
           kH264Tail;
  if (c.element == "v4l2h264enc")
    // Constant bitrate (mode 1) suits a WebRTC path best, SPS/PPS repeated on
    // every IDR, profile and level negotiated from the caps (level 4: 1080p30).
    return "v4l2h264enc name=" + name +
           " extra-controls=\"controls,video_bitrate_mode=1,video_bitrate=" + std::to_string(bitrate_kbps * 1000) +
           ",h264_i_frame_period=" + std::to_string(gop) +
           ",repeat_sequence_header=1\" ! video/x-h264,level=(string)4" + kH264Tail;
  if (c.element == "vp8enc")
    return "vp8enc name=" + name +
           " deadline=1 cpu-used=8 end-usage=cbr lag-in-frames=0 error-resilient=partitions"
           " threads=2 keyframe-max-dist=" +
           std::to_string(gop) + bitrate;
  return "identity name=" + name;  // passthrough: the camera's own H.264 goes to the tee as it is
}

}  // namespace sl::agent
