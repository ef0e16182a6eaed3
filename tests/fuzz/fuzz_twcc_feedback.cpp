// Transport feedback from a browser, on any bytes: packets and arrival times or a
// clear error, never a crash or a read past the end; and what is read writes back
// to the same packets and times.
#include "congestion/twcc_feedback.hpp"

#include <cstdint>
#include <cstdlib>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto parsed = sl::agent::parse_twcc_feedback(data, size);
  auto *fb = std::get_if<sl::agent::TwccFeedback>(&parsed);
  if (!fb) return 0;
  if (fb->packets.size() != size_t(data[2] << 8 | data[3])) std::abort();
  const auto written = sl::agent::write_twcc_feedback(*fb);
  auto again = sl::agent::parse_twcc_feedback(written.data(), written.size());
  auto *back = std::get_if<sl::agent::TwccFeedback>(&again);
  if (!back || back->base_seq != fb->base_seq || back->reference_us != fb->reference_us ||
      back->packets.size() != fb->packets.size())
    std::abort();
  for (size_t i = 0; i < fb->packets.size(); ++i)
    if (back->packets[i].seq != fb->packets[i].seq || back->packets[i].arrival_us != fb->packets[i].arrival_us)
      std::abort();
  sl::agent::SeqUnwrapper unwrapper;
  (void)sl::agent::to_arrivals(*fb, unwrapper);
  return 0;
}
