// The broker URL a user writes (tcp://, mqtt://, ssl://, mqtts://) checked and
// turned into the form Paho takes (tcp:// or ssl://, port always present); and
// Paho's connect failures said in words that point at the setting to check.
#pragma once

#include "result.hpp"

#include <string>
#include <variant>

namespace sl {

// "mqtt://host" -> "tcp://host:1883"; or what is wrong ("must look like ...").
Result<std::string> broker_uri(const std::string &url);

// A failed connect's return code (Paho: -1 for TCP/TLS, else the broker's
// CONNACK refusal) -> what it means and what to check.
std::string connect_failure_words(int code, bool tls);

}  // namespace sl
