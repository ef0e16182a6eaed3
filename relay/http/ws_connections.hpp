// The relay's WebSocket connections, off GLib's per-socket sources. GLib's main
// context walks every source and poll record on each pass, so with thousands of
// sockets each message cost time in proportion to the fleet (docs/fleet.md). Here
// the upgraded connections (taken from libsoup once it has sent 101) sit in one
// epoll set, and the main loop sees one descriptor for all of them: a pass costs
// what is ready, whatever the number held. Plain TCP and TLS alike (the stream's
// pollable halves, read until they would block).
//
// Handlers are never called from inside send() or close(): a connection that
// fails or finishes while the caller works is finished on the next pass.
#pragma once

#include "gobj.hpp"
#include "ws_frames.hpp"

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sl::relay {

class WsConnections;

class WsConnection {
 public:
  struct Handlers {
    std::function<void(std::string &&text)> text;
    std::function<void()> binary;                         // a binary message (refused by the caller)
    std::function<void(const std::string &why)> refused;  // a protocol error or an oversized message, before the close
    std::function<void()> closed;                         // gone: the last call, the connection is freed after it
  };
  enum class State { Open, Closing, Closed };

  void send_text(std::string_view text);
  // Sends a close frame and waits (at most 2 s) for the peer's.
  void close(uint16_t code, std::string_view reason);
  State state() const { return state_; }
  // The code the peer closed with (ws::kAbnormal when the socket just went).
  uint16_t close_code() const { return close_code_; }
  // Bytes sent and not yet taken by the peer: in the kernel's send queue and ours.
  size_t queued() const;

 private:
  friend class WsConnections;
  WsConnection(WsConnections &owner, GIOStream *stream, int fd, size_t max_message, Handlers handlers);
  void readable();
  void writable();
  void queue(std::string frame);
  void flush();
  void fail();  // the socket went (or the close is done): finished on the next pass
  void begin_closing(uint16_t code, std::string_view reason);

  WsConnections &owner_;
  Owned<GIOStream> stream_;
  GPollableInputStream *in_;
  GPollableOutputStream *out_;
  int fd_;
  ws::Decoder decoder_;
  Handlers handlers_;
  std::string pending_;  // frames the kernel did not take yet
  bool watching_out_ = false;
  State state_ = State::Open;
  bool peer_closed_ = false;  // its close frame came: ours is the answer
  uint16_t close_code_ = ws::kAbnormal;
  gint64 closing_deadline_us_ = 0;
};

class WsConnections {
 public:
  WsConnections();
  ~WsConnections();  // closes what is left without calling handlers

  // Takes an upgraded connection (its 101 sent). `fd` is its socket's.
  WsConnection &adopt(GIOStream *stream, int fd, size_t max_message, WsConnection::Handlers handlers);
  size_t size() const { return by_fd_.size(); }

 private:
  friend class WsConnection;
  void pass();  // what epoll says is ready, then what is left over
  void soon();  // another pass as soon as the loop is free
  void watch(WsConnection &c, bool out);
  void finish(WsConnection &c);

  int epoll_fd_;
  guint source_ = 0;
  guint idle_ = 0;
  guint sweep_ = 0;
  std::unordered_map<int, std::unique_ptr<WsConnection>> by_fd_;
  std::vector<int> again_;    // read up to the per-pass bound: more to read
  std::vector<int> done_;     // to finish on the next pass
  std::vector<int> closing_;  // closes sent, the peer's awaited until their deadline
};

}  // namespace sl::relay
