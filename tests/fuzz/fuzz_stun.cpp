// The relay's STUN responder on any datagram: an answer only to a well-formed
// Binding request, and then one that is itself well-formed.
#include "nat/stun_responder.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static GInetSocketAddress *from = G_INET_SOCKET_ADDRESS(g_inet_socket_address_new_from_string("203.0.113.9", 40000));
  const std::string datagram(reinterpret_cast<const char *>(data), size);
  if (auto reply = sl::relay::stun_binding_response(datagram, from)) {
    if (reply->size() < 20 || reply->size() % 4 != 0) std::abort();
    if (((uint8_t((*reply)[2]) << 8) | uint8_t((*reply)[3])) + 20u != reply->size()) std::abort();
  }
  return 0;
}
