// Closes connections whose request does not arrive in time: a client that opens
// a connection and sends its request headers slowly (or never) would otherwise
// hold a socket and memory for as long as it likes. One timer for all requests
// under way (a timer each would be one more source for GLib's main context to
// walk per connection, thousands at once when a fleet reconnects).
#pragma once

#include <libsoup/soup.h>

#include <unordered_map>

namespace sl::relay {

class HandshakeTimeout {
 public:
  HandshakeTimeout(SoupServer *server, guint seconds);
  ~HandshakeTimeout();

 private:
  void started(SoupServerMessage *msg);
  void done(SoupServerMessage *msg);  // read, aborted, disconnected or gone
  void sweep();
  static void gone(gpointer self, GObject *msg);  // a message freed while under way

  SoupServer *server_;
  gint64 limit_us_;
  gulong started_ = 0, read_ = 0, finished_ = 0;
  guint sweep_ = 0;
  std::unordered_map<SoupServerMessage *, gint64> deadlines_;  // requests under way
};

}  // namespace sl::relay
