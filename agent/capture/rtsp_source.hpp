// IP cameras over RTSP: what a camera offers (a probe that connects, sets up
// and plays the stream, and reads its first parameter sets, within a
// deadline), whether its H.264 can go to browsers as it is, and the source's
// pipeline description: rtspsrc, then the depayloader and parser for the
// codec the probe found, either passed through or decoded to raw frames for
// the agent's encoder; with audio = camera, also the camera's sound decoded
// to raw audio (the chain chosen in rtsp_audio.hpp) for the agent's Opus chain.
//
// Why explicit elements rather than uridecodebin/decodebin: the pipeline's
// shape (pass-through into the tee, or decode then encode) must be known
// before it is built, so the codec is learned first (the probe, which alone
// uses parsebin) and the real pipeline names every element it has; its
// errors, restarts and figures are then the same as any other source's. The
// one decodebin is for the sound of a camera unreachable at start-up, whose
// codec cannot be known before the pipeline is built.
#pragma once

#include "result.hpp"
#include "settings.hpp"
#include "sources.hpp"

#include <gst/gst.h>

#include <string>

namespace sl::agent {

// What the camera sends, from the caps its parser settled on.
struct RtspOffer {
  std::string codec;                   // "H264", "H265", or the caps name of anything else
  std::string profile;                 // as h264parse/h265parse name it ("constrained-baseline", "high", "main", ...)
  int width = 0, height = 0, fps = 0;  // 0 when the stream does not say
  std::string audio;                   // the sound's RTP encoding name ("PCMA", "MPEG4-GENERIC", ...); "" for none
};

struct PassthroughDecision {
  bool passthrough = false;
  std::string reason;  // one sentence for the log and --check
};

// Whether the camera's stream goes to browsers as it is. The one place this is
// decided, so that finer rules (the bitstream's B-frames, its parameter sets)
// can replace it: H.264 in the (constrained) baseline profile passes, which
// has no B-frames and which every browser decodes; every other profile and
// codec is decoded and encoded again.
PassthroughDecision decide_passthrough(const RtspOffer &offer);

// Connects to the camera and reads what it sends; at most `timeout_ms`. Its
// sound is read from its stream description only, never set up. The error is a
// sentence for the user (unreachable, refused credentials, no video).
Result<RtspOffer> probe_rtsp(const CameraSettings &settings, guint timeout_ms);

// The RTSP error GStreamer reported, as a sentence saying what to do
// (`credentials_given`: whether the agent sent a user name and password).
std::string describe_rtsp_error(const GError *error, const std::string &url, bool credentials_given);

// The source for an rtsp:// setting. The camera is probed first; when it
// cannot be reached the agent still starts (the camera keeper retries it), with
// a source that decodes either codec and encodes it, as pass-through cannot be
// decided without seeing the stream. With audio = camera, the camera's sound
// goes into plan.audio (rtsp_audio.hpp); otherwise it is not set up at all.
Result<SourcePlan> plan_rtsp_source(const CameraSettings &settings);

inline constexpr guint kRtspProbeTimeoutMs = 5000;

}  // namespace sl::agent
