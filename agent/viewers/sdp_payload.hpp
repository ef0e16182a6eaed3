// Which payload type of a viewer's offer carries what we send: the first video
// m-line's H.264 with packetization-mode 1 and a constrained-baseline profile
// (plain baseline accepted when nothing better is offered), or its VP8.
#pragma once

#include "capture/encoder_choice.hpp"
#include "result.hpp"

#include <optional>
#include <string>

namespace sl::agent {

struct PayloadChoice {
  unsigned mline = 0;
  int pt = 0;
  // RTP caps for the webrtcbin sink pad; they also shape the answer's fmtp.
  std::string rtp_caps;
  // The offer's id for the playout-delay header extension (playout_delay.hpp), 0 if not offered.
  unsigned playout_delay_id = 0;
};

Result<PayloadChoice> choose_payload(const std::string &offer_sdp, Codec codec);

// The offer's first audio m-line that takes Opus (48 kHz, 2 channels): its index,
// payload type and RTP caps. nullopt when the offer has no such m-line (the
// viewer gets video only).
std::optional<PayloadChoice> choose_audio_payload(const std::string &offer_sdp);

}  // namespace sl::agent
