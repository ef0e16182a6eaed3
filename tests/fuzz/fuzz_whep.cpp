// WHEP's text on any bytes (relay/http/whep_sdp): a player's offer, its trickled
// fragment, and an agent's answer with candidates written in: a result or a
// refusal, never a crash.
#include "http/whep_sdp.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace sl::relay::whep;
  const std::string text(reinterpret_cast<const char *>(data), size);
  if (auto offer = check_offer(text, "H264")) (void)mline_of(*offer, text.substr(0, 8));
  (void)check_offer(text, "VP8");
  if (auto fragment = parse_fragment(text)) {
    std::vector<AgentCandidate> candidates;
    for (const auto &c : fragment->candidates) candidates.push_back({int(c.candidate.size() % 3) - 1, c.candidate});
    (void)answer_with_candidates(text, candidates, fragment->end_of_candidates);
  }
  (void)link_headers(sl::proto::IceServer{{text}, text, text});
  return 0;
}
