#include "rtsp_audio.hpp"

#include <glib.h>

#include <algorithm>
#include <array>

namespace sl::agent {

namespace {

struct AudioCodec {
  const char *encoding;                  // RTP encoding name, upper case as rtspsrc gives it
  const char *depay;                     // with any parser after it
  std::array<const char *, 3> decoders;  // the first one available is taken (nullptr: none more)
  const char *package;                   // where the decoders come from, for the error
};

// What IP cameras send: G.711 above all, AAC (RFC 3640 or LATM), sometimes
// Opus, G.722 or linear PCM.
const AudioCodec kCodecs[] = {
    {"PCMA", "rtppcmadepay", {"alawdec"}, "gstreamer1.0-plugins-good"},
    {"PCMU", "rtppcmudepay", {"mulawdec"}, "gstreamer1.0-plugins-good"},
    {"MPEG4-GENERIC", "rtpmp4gdepay ! aacparse", {"avdec_aac", "faad", "fdkaacdec"}, "gstreamer1.0-libav"},
    {"MP4A-LATM", "rtpmp4adepay ! aacparse", {"avdec_aac", "faad", "fdkaacdec"}, "gstreamer1.0-libav"},
    {"OPUS", "rtpopusdepay", {"opusdec"}, "gstreamer1.0-plugins-base"},
    {"G722", "rtpg722depay", {"avdec_g722"}, "gstreamer1.0-libav"},
    {"L16", "rtpL16depay", {"audioconvert"}, "gstreamer1.0-plugins-good"},
};

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(g_ascii_toupper(char(c))); });
  return s;
}

}  // namespace

Result<std::string> camera_audio_chain(const std::string &encoding,
                                       const std::function<bool(const std::string &)> &available) {
  const std::string name = upper(encoding);
  for (const AudioCodec &codec : kCodecs) {
    if (name != codec.encoding) continue;
    const std::string depay = codec.depay;
    const std::string first_element = depay.substr(0, depay.find(' '));
    const char *decoder = nullptr;
    for (const char *d : codec.decoders)
      if (d && !decoder && available(d)) decoder = d;
    if (!available(first_element) || !decoder)
      return fail("The camera's sound is " + name + ", which needs " + codec.package +
                  " to be decoded: install it; the camera is shown without sound meanwhile.");
    return std::string("capsfilter name=") + kRtpAudioFilter +
           " caps=application/x-rtp,media=audio,encoding-name=" + name + " ! " + depay + " ! " + decoder;
  }
  return fail("The camera's sound is " + (name.empty() ? std::string("of no named codec") : name) +
              ", which the agent does not decode (it takes G.711, AAC, Opus, G.722 and L16): the camera is shown "
              "without sound.");
}

std::string any_camera_audio_chain() {
  return std::string("capsfilter name=") + kRtpAudioFilter +
         " caps=application/x-rtp,media=audio ! decodebin name=audiodecode identity name=audioraw";
}

}  // namespace sl::agent
