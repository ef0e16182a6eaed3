// An IP camera's own sound (audio = camera): which depayloader and decoder take
// the codec the camera's stream description names (G.711, AAC, Opus, ...), so
// that the sound is decoded once and encoded as Opus with the rest of the
// agent's audio. Only the choice lives here; rtsp_source.cpp builds it.
#pragma once

#include "result.hpp"

#include <functional>
#include <string>

namespace sl::agent {

// The element rtspsrc's audio pad is linked to (rtsp_source.cpp links it by name).
inline constexpr const char *kRtpAudioFilter = "rtp-audio";

// depayloader ! decoder, from the RTP encoding name (as rtspsrc's caps give it,
// e.g. "PCMA", "MPEG4-GENERIC") to raw audio, starting with the capsfilter
// kRtpAudioFilter that takes the camera's pad. `available` says whether an
// element factory exists. The error is a sentence for the log and --check.
Result<std::string> camera_audio_chain(const std::string &encoding,
                                       const std::function<bool(const std::string &)> &available);

// For a camera whose sound is not known yet (unreachable at start-up): any
// audio it turns out to send, decoded by decodebin (element "audiodecode",
// whose pad rtsp_source.cpp links to the element "audioraw" this ends in).
std::string any_camera_audio_chain();

}  // namespace sl::agent
