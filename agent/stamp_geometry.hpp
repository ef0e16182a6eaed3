// The size of LTS1, the latency stamp (docs/latency-stamp.md; written and read
// by capture/stamp.hpp): 48 blocks of 16x16 pixels in a 384x32 strip. Here, below
// capture, so that the settings can refuse a frame too small for it.
#pragma once

namespace sl::agent {

inline constexpr int kStampWidth = 384;
inline constexpr int kStampHeight = 32;
inline constexpr int kStampBlocks = 48;

}  // namespace sl::agent
