// Small-message sockets: signaling is a handful of small messages in a burst (an
// answer, then its candidates). With Nagle's algorithm on, each one after the
// first waits for the previous one's ACK, which the receiver delays by up to
// 40 ms; ../shared/LAB.md measured the same on MQTT round trips.
#pragma once

#include <gio/gio.h>

namespace sl {

// Turns Nagle's algorithm off on a TCP socket; false (and nothing done) for any
// other kind of socket or on failure.
bool set_tcp_nodelay(GSocket *socket);

}  // namespace sl
