// Which local address a session's candidates stood on (address_watch.hpp): the
// agent renews a session when that address goes away.
#include "viewers/address_watch.hpp"

#include <doctest/doctest.h>

using sl::agent::candidate_local_address;

TEST_CASE("a host candidate stands on its own address") {
  CHECK(candidate_local_address("candidate:1 1 UDP 2015363327 10.0.1.2 46473 typ host") == "10.0.1.2");
  CHECK(candidate_local_address("candidate:2 1 TCP 1015021823 fd00::2 9 typ host tcptype active") == "fd00::2");
}

TEST_CASE("a server-reflexive or relayed candidate stands on its base") {
  CHECK(candidate_local_address("candidate:3 1 UDP 1679819007 203.0.113.7 40000 typ srflx raddr 192.168.1.20 rport "
                                "46473") == "192.168.1.20");
  CHECK(candidate_local_address("candidate:4 1 UDP 8331263 198.51.100.1 50000 typ relay raddr 203.0.113.7 rport "
                                "40000 generation 0") == "203.0.113.7");
}

TEST_CASE("what is not a candidate names no address") {
  CHECK(candidate_local_address("").empty());
  CHECK(candidate_local_address("candidate:1 1 UDP 1 10.0.0.1").empty());
  CHECK(candidate_local_address("candidate:1 1 UDP 1 10.0.0.1 5 notyp host").empty());
  CHECK(candidate_local_address("candidate:5 1 UDP 1 1.2.3.4 5 typ srflx").empty());  // no raddr
}
