// The playout-delay RTP header extension (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay):
// the sender tells the browser how long it may hold frames before showing them.
// With a maximum of 0 the browser shows each frame as soon as it is decoded,
// without smoothing (what a live camera wants on a good network); -1 leaves the
// choice to the browser. Written on every packet by the payloader.
#pragma once

#include <gst/rtp/rtp.h>

#include <array>
#include <cstdint>

namespace sl::agent {

inline constexpr const char *kPlayoutDelayUri = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
inline constexpr int kPlayoutDelayMaxMs = 40950;  // 12 bits of 10 ms

// The extension's three bytes: minimum and maximum delay, 12 bits each, in 10 ms
// units (values rounded up, clamped to the field).
std::array<uint8_t, 3> playout_delay_bytes(int min_ms, int max_ms);

// A new extension element for a payloader's "request-extension" (transfer full).
GstRTPHeaderExtension *make_playout_delay_extension(guint id, int max_ms);

}  // namespace sl::agent
