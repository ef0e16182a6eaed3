// What the session table's actions send to one peer, by message type (the
// session table's and the fan-out's unit tests).
#pragma once

#include "sessions/session_table.hpp"

#include <type_traits>
#include <variant>
#include <vector>

namespace sl::relay::testing {

// Messages of type T sent to `peer`.
template <typename T>
std::vector<T> sent(const Actions &a, PeerId peer) {
  std::vector<T> out;
  for (const auto &s : a.sends) {
    if (s.peer != peer) continue;
    std::visit(
        [&](const auto &v) {
          std::visit(
              [&](const auto &m) {
                if constexpr (std::is_same_v<std::decay_t<decltype(m)>, T>) out.push_back(m);
              },
              v);
        },
        s.message);
  }
  return out;
}

}  // namespace sl::relay::testing
