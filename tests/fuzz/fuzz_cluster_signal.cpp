// The reader of signals between relays (docs/fleet.md: a relay's MQTT inbox, so
// any bytes another client of the broker publishes): no crash, no sanitizer
// report, and whatever is accepted writes back to JSON that reads back the same.
#include "protocol.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace sl::proto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  const auto parsed = parse_cluster_signal(text);
  if (!parsed) return 0;
  const auto back = parse_cluster_signal(to_json(*parsed));
  if (!back || back->from != parsed->from || !(back->message == parsed->message)) std::abort();
  return 0;
}
