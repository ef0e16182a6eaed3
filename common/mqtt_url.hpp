// The broker URL a user writes (tcp://, mqtt://, ssl://, mqtts://) checked and
// turned into the form Paho takes (tcp:// or ssl://, port always present).
#pragma once

#include <string>
#include <variant>

namespace sl {

// "mqtt://host" -> "tcp://host:1883"; on error, index 1 holds what is wrong
// ("must look like ...").
std::variant<std::string, std::string> paho_server_uri(const std::string &url);

}  // namespace sl
