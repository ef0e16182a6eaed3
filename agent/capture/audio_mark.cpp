#include "audio_mark.hpp"

#include <cmath>
#include <numbers>

namespace sl::agent {

void write_audio_mark(int16_t *samples, size_t frames, int channels, int rate, int64_t start_us) {
  constexpr double kAmplitude = 0.5 * 32767;
  for (size_t i = 0; i < frames; ++i) {
    // Each frame's own time, so a beep starts on its second whatever the buffers' size.
    const int64_t t_us = start_us + int64_t(i) * 1000000 / rate;
    const int64_t into_second = ((t_us % 1000000) + 1000000) % 1000000;
    int16_t value = 0;
    if (into_second < kMarkBeepUs) {
      const double phase = 2 * std::numbers::pi * kMarkToneHz * double(into_second) / 1e6;
      value = int16_t(std::lround(kAmplitude * std::sin(phase)));
    }
    for (int c = 0; c < channels; ++c) samples[i * size_t(channels) + size_t(c)] = value;
  }
}

}  // namespace sl::agent
