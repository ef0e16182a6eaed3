#include "camera_h264.hpp"

#include "h264_profile.hpp"

namespace sl::agent {

void observe(H264Observed &seen, const AccessUnitFacts &frame, bool dts_differs) {
  ++seen.frames;
  if (!seen.sps && frame.parsed_sps) seen.sps = frame.parsed_sps;
  if (frame.idr) {
    ++seen.keyframes;
    if (!frame.sps || !frame.pps) ++seen.keyframes_without_parameter_sets;
  }
  seen.b_slices = seen.b_slices || frame.b_slice;
  seen.reordered = seen.reordered || dts_differs;
}

namespace {
// Why a browser's decoder would not take this SPS, or empty.
std::string unsupported(const H264Sps &sps) {
  const H264Profile profile = h264_profile(sps.profile);
  if (profile == H264Profile::Other || profile == H264Profile::PredictiveHigh444)
    return "that profile is not one browsers decode";
  if (sps.chroma_format_idc != 1)
    return std::string("its chroma is ") + (sps.chroma_format_idc == 2 ? "4:2:2" : "not 4:2:0") +
           ", which browsers do not decode";
  if (sps.bit_depth_luma != 8 || sps.bit_depth_chroma != 8)
    return "it has " + std::to_string(sps.bit_depth_luma) +
           "-bit samples (High 10 or beyond), which browsers do not decode";
  if (!sps.frame_mbs_only) return "it is interlaced, which browsers' WebRTC decoders do not take";
  return {};
}
}  // namespace

H264Verdict judge_camera_h264(const H264Observed &seen) {
  H264Verdict v;
  if (!seen.sps) {
    v.summary = "the camera's H.264 showed no readable SPS in its first " + std::to_string(seen.frames) +
                " frames: decoded and encoded again";
    return v;
  }
  const H264Sps &sps = *seen.sps;
  const std::string what = std::string("the camera's H.264 (") + profile_name(sps.profile) + " profile, level " +
                           level_name(sps.profile) + ", profile-level-id " + sps.profile.hex() + ")";
  if (auto why = unsupported(sps); !why.empty()) {
    v.summary = what + ": " + why + ": decoded and encoded again";
    return v;
  }
  const bool reorders = seen.b_slices || seen.reordered || sps.max_num_reorder_frames.value_or(0) > 0;
  if (reorders) {
    v.summary = what +
                " has B-frames (frames sent out of order), which browsers' WebRTC decoders do not take: "
                "decoded and encoded again";
    return v;
  }
  v.pass_through = true;
  v.parameter_sets_added = seen.keyframes_without_parameter_sets > 0;
  v.summary = what + ": passed through as it is";
  if (v.parameter_sets_added)
    v.summary += ", with SPS/PPS put before each keyframe (the camera does not send them with every keyframe)";
  return v;
}

Result<std::string> choose_h264_decoder(const std::function<bool(const std::string &)> &available) {
  for (const char *decoder : {"v4l2h264dec", "avdec_h264"})
    if (available(decoder)) return std::string(decoder);
  return fail(
      "The camera's H.264 must be decoded and encoded again, and no H.264 decoder is installed: "
      "install gstreamer1.0-libav (avdec_h264).");
}

}  // namespace sl::agent
