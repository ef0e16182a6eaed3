#include "backoff.hpp"

#include <algorithm>

namespace sl {

Backoff::Backoff(uint32_t initial_ms, uint32_t max_ms, std::function<double()> random01)
    : initial_ms_(std::max<uint32_t>(initial_ms, 1)),
      max_ms_(std::max(max_ms, initial_ms_)),
      random01_(std::move(random01)) {}

uint32_t Backoff::next_delay_ms() {
  const uint32_t shift = std::min<uint32_t>(attempt_, 20);
  const uint64_t step = std::min<uint64_t>(uint64_t(initial_ms_) << shift, max_ms_);
  ++attempt_;
  const double r = std::clamp(random01_(), 0.0, 1.0);
  return uint32_t(step / 2 + uint64_t(double(step - step / 2) * r));
}

}  // namespace sl
