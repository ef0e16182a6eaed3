#include "lower_encoding.hpp"

#include <algorithm>

namespace sl::agent {

LowerSize lower_size(int width, int height) {
  return LowerSize{std::max(16, width / 2 & ~1), std::max(16, height / 2 & ~1)};
}

std::string lower_size_caps(LowerSize size) {
  return "video/x-raw,width=" + std::to_string(size.width) + ",height=" + std::to_string(size.height) +
         ",pixel-aspect-ratio=1/1";
}

std::string describe_lower_decoding(const std::string &decoder) {
  return "queue name=lowin leaky=downstream max-size-buffers=0 max-size-bytes=0 max-size-time=1000000000 ! " + decoder +
         " name=lowdecoder ! ";
}

std::string describe_lower_encoding(const EncoderChoice &encoder, LowerSize size, int fps, int kbps,
                                    int keyframe_interval_s) {
  // Two frames at most wait for the second encoder: when it cannot keep up, its
  // viewers get fewer frames, and the camera's own encoding loses none. Scaled by
  // nearest neighbour (an exact halving: every other pixel and line): bilinear cost
  // as much as the full encode on a 2-core VM, and took the agent's CPU with a lower
  // encoding live to 1.59x its CPU without (nearest: 1.38x; docs/benchmarks.md).
  return "queue leaky=downstream max-size-buffers=2 max-size-bytes=0 max-size-time=0"
         " ! videoscale method=nearest-neighbour ! videoconvert ! capsfilter name=lowsize caps=\"" +
         lower_size_caps(size) + "\" ! " + describe_encoder(encoder, kbps, fps, keyframe_interval_s, "lowencoder") +
         " ! queue leaky=downstream max-size-buffers=0 max-size-bytes=0 max-size-time=500000000"
         " ! tee name=lowtee allow-not-linked=true";
}

}  // namespace sl::agent
