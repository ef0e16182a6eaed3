// The control plane's readers (commands, parameters of every type, acks, state)
// on any bytes: no crash, and accepted acks and states read back the same.
#include "control.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace sl::control;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  auto command = parse_command(text);
  if (command) {
    const Command &c = *command;
    (void)parse_params(c.type, c.params);
    auto again = parse_command(to_json(c));
    if (!again || again->params != c.params) std::abort();
  }
  for (const char *type : kCommandTypes) (void)parse_params(type, text);
  if (auto ack = parse_ack(text)) {
    auto back = parse_ack(to_json(*ack));
    if (!back || !(*back == *ack)) std::abort();
  }
  if (auto state = parse_state(text)) {
    auto back = parse_state(to_json(*state));
    if (!back || !(*back == *state)) std::abort();
  }
  return 0;
}
