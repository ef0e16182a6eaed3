#include "tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

namespace sl {

bool set_tcp_nodelay(GSocket *socket) {
  if (!socket || g_socket_get_protocol(socket) != G_SOCKET_PROTOCOL_TCP) return false;
  return g_socket_set_option(socket, IPPROTO_TCP, TCP_NODELAY, 1, nullptr);
}

}  // namespace sl
