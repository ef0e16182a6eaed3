// WebSocket framing (RFC 6455) for the relay's side of a connection: the
// client's frames decoded into whole messages (fragments joined, masks removed,
// control frames answered by the caller), and the server's frames encoded. Pure:
// bytes in, events out, no sockets (http/ws_connections.hpp drives it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sl::relay::ws {

enum class Opcode : uint8_t { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

// Close codes the relay sends (RFC 6455 section 7.4.1).
constexpr uint16_t kNormal = 1000, kGoingAway = 1001, kProtocolError = 1002, kNoStatus = 1005, kAbnormal = 1006,
                   kBadData = 1007, kPolicyViolation = 1008, kTooBig = 1009;

struct Event {
  enum class Kind { Text, Binary, Ping, Pong, Close, Error } kind;
  std::string data;   // a message's payload, a ping's payload, a close's reason, an error's explanation
  uint16_t code = 0;  // Close: the peer's code (kNoStatus without one); Error: the code to close with
};

class Decoder {
 public:
  // `max_message`: the largest message (all its fragments) accepted; larger ones are an error (1009).
  explicit Decoder(size_t max_message) : max_message_(max_message) {}

  void feed(const char *data, size_t size) { buffer_.append(data, size); }
  // The next event the bytes fed so far hold, if any. After an error (or a close)
  // the decoder gives nothing more: the connection is over.
  std::optional<Event> next();
  // Bytes held: fed and not yet decoded, plus a fragmented message's parts so far.
  size_t held() const { return buffer_.size() - read_ + message_.size(); }

 private:
  std::optional<Event> fail(uint16_t code, std::string why);

  size_t max_message_;
  std::string buffer_;
  size_t read_ = 0;          // what of buffer_ is decoded
  std::string message_;      // a fragmented message's parts so far
  Opcode message_opcode_{};  // Text or Binary while one is under way
  bool in_message_ = false;
  bool over_ = false;
};

// One unfragmented frame from the server (unmasked, as RFC 6455 asks of servers).
std::string encode(Opcode opcode, std::string_view payload);
// A close frame's payload: the code and a reason (cut to fit a control frame's 125 bytes).
std::string close_payload(uint16_t code, std::string_view reason);

}  // namespace sl::relay::ws
