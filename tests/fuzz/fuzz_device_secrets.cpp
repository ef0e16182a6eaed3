// The relay's device-secrets file on any bytes: a map or a message naming the line.
#include "settings.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  auto parsed = sl::relay::parse_device_secrets(text);
  if (parsed)
    for (const auto &[id, secret] : *parsed)
      if (id.empty() || secret.size() < 16) std::abort();
  return 0;
}
