// A client's WebSocket frame as RFC 6455 asks of clients (masked), for the tests
// of the relay's framing and connections.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

inline std::string client_frame(uint8_t first, std::string_view payload, bool masked = true) {
  std::string f;
  f.push_back(char(first));
  const uint8_t mask_bit = masked ? 0x80 : 0;
  const size_t n = payload.size();
  if (n < 126) {
    f.push_back(char(mask_bit | n));
  } else if (n <= 0xFFFF) {
    f.push_back(char(mask_bit | 126));
    f.push_back(char(n >> 8));
    f.push_back(char(n & 0xFF));
  } else {
    f.push_back(char(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) f.push_back(char((uint64_t(n) >> shift) & 0xFF));
  }
  const char mask[4] = {'\x12', '\x34', '\x56', '\x78'};
  if (masked) f.append(mask, 4);
  for (size_t i = 0; i < n; ++i) f.push_back(masked ? char(payload[i] ^ mask[i & 3]) : payload[i]);
  return f;
}
