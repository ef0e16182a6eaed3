// The relay's WebSocket decoder on any bytes, fed in two pieces: events or one
// error, never a crash, and nothing held past the limit it was given.
#include "http/ws_frames.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace sl::relay::ws;
  if (size < 1) return 0;
  const size_t split = data[0] % (size);
  const char *bytes = reinterpret_cast<const char *>(data + 1);
  const size_t n = size - 1;
  Decoder d(4096);
  auto drain = [&] {
    while (auto e = d.next()) {
      if (e->kind != Event::Kind::Error && e->kind != Event::Kind::Close && e->data.size() > 4096) __builtin_trap();
    }
  };
  d.feed(bytes, std::min(split, n));
  drain();
  if (split < n) d.feed(bytes + split, n - split);
  drain();
  (void)encode(Opcode::Text, std::string(bytes, n));
  (void)close_payload(uint16_t(size), std::string(bytes, n));
  return 0;
}
