#include "tcp.hpp"

#include "gobj.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

using namespace sl;

namespace {
int nodelay(GSocket *socket) {
  gint value = -1;
  REQUIRE(g_socket_get_option(socket, IPPROTO_TCP, TCP_NODELAY, &value, nullptr));
  return value;
}
}  // namespace

TEST_CASE("set_tcp_nodelay turns Nagle off on a connected TCP socket") {
  auto listener = adopt(g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr));
  auto loopback = adopt(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
  auto any_port = adopt(g_inet_socket_address_new(loopback.get(), 0));
  REQUIRE(g_socket_bind(listener.get(), any_port.get(), TRUE, nullptr));
  REQUIRE(g_socket_listen(listener.get(), nullptr));
  auto bound = adopt(g_socket_get_local_address(listener.get(), nullptr));

  auto client = adopt(g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr));
  REQUIRE(g_socket_connect(client.get(), bound.get(), nullptr, nullptr));
  CHECK(nodelay(client.get()) == 0);  // the system's default: Nagle on
  CHECK(set_tcp_nodelay(client.get()));
  CHECK(nodelay(client.get()) != 0);

  auto accepted = adopt(g_socket_accept(listener.get(), nullptr, nullptr));
  REQUIRE(accepted);
  CHECK(nodelay(accepted.get()) == 0);
  CHECK(set_tcp_nodelay(accepted.get()));
  CHECK(nodelay(accepted.get()) != 0);
}

TEST_CASE("set_tcp_nodelay leaves other sockets alone") {
  auto udp = adopt(g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr));
  CHECK_FALSE(set_tcp_nodelay(udp.get()));
  CHECK_FALSE(set_tcp_nodelay(nullptr));
}
