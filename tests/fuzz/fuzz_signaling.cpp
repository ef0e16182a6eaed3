// Every signaling message reader, on any bytes: no crash, no sanitizer report,
// and whatever is accepted writes back to JSON that reads back the same.
#include "protocol.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace sl::proto;

template <typename V>
static void round_trip(const Parsed<V> &parsed, Parsed<V> (*parse)(std::string_view)) {
  if (!parsed) return;
  const std::string again = to_json(*parsed);
  const auto back = parse(again);
  if (!back || !(*back == *parsed)) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  round_trip(parse_agent_to_relay(text), parse_agent_to_relay);
  round_trip(parse_relay_to_agent(text), parse_relay_to_agent);
  round_trip(parse_viewer_to_relay(text), parse_viewer_to_relay);
  round_trip(parse_relay_to_viewer(text), parse_relay_to_viewer);
  return 0;
}
