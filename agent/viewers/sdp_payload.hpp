// Which payload type of a viewer's offer carries what we send, and how the
// answer describes it: the first video m-line's VP8, or its H.264 with
// packetization-mode 1 whose profile decodes the stream the agent sends (the
// profile of the SPS it sends: the encoder's, or a camera's passed through).
// The answer names that SPS's profile-level-id, so the browser (Safari above
// all) is told exactly what comes; level-asymmetry-allowed is answered only
// when the offer has it; an offered payload whose level is at least the
// stream's is preferred (Safari offers High levels such as 640c34).
#pragma once

#include "capture/encoder_choice.hpp"
#include "capture/h264_bitstream.hpp"
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
  // The offer's id for the transport-wide sequence number extension, when it also
  // asks for transport-cc feedback on this payload (congestion control); else 0.
  unsigned twcc_id = 0;
  // Something the viewer should know of but that does not stop it (a level
  // above the offer's), for the log; empty when all fits.
  std::string note;
};

// What the encoder sends until its first SPS is seen: constrained baseline, level 3.1.
inline constexpr ProfileLevel kDefaultSentProfile{0x42, 0xe0, 0x1f};

// `sent`: the profile-level-id of the H.264 the agent sends (ignored for VP8).
Result<PayloadChoice> choose_payload(const std::string &offer_sdp, Codec codec,
                                     const ProfileLevel &sent = kDefaultSentProfile);

// The offer's first audio m-line that takes Opus (48 kHz, 2 channels): its index,
// payload type and RTP caps. nullopt when the offer has no such m-line (the
// viewer gets video only).
std::optional<PayloadChoice> choose_audio_payload(const std::string &offer_sdp);

}  // namespace sl::agent
