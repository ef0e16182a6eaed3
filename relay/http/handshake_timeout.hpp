// Closes connections whose request does not arrive in time: a client that opens
// a connection and sends its request headers slowly (or never) would otherwise
// hold a socket and memory for as long as it likes.
#pragma once

#include <libsoup/soup.h>

namespace sl::relay {

class HandshakeTimeout {
 public:
  HandshakeTimeout(SoupServer *server, guint seconds);
  ~HandshakeTimeout();

 private:
  SoupServer *server_;
  guint seconds_;
  gulong started_ = 0, read_ = 0, finished_ = 0;
};

}  // namespace sl::relay
