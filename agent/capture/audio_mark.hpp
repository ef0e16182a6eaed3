// The audio half of the latency stamp (docs/latency-stamp.md, "audio mark"): with
// `stamp` on, the test sound is silence with a 1 kHz beep of 100 ms that starts at
// every whole second of the wall clock, the clock the video stamp's T is read
// from. A reader that finds the beep's onset knows when that sound was captured,
// as the video stamp says when each frame was, so the two delays can be compared:
// how far apart the viewer plays sound and picture.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sl::agent {

inline constexpr int kMarkToneHz = 1000;
inline constexpr int64_t kMarkBeepUs = 100000;

// Fills `frames` interleaved S16 frames of `channels` at `rate`, the first of
// which was captured at `start_us` (wall clock, microseconds since the epoch).
void write_audio_mark(int16_t *samples, size_t frames, int channels, int rate, int64_t start_us);

}  // namespace sl::agent
