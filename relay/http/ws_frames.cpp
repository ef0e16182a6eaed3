#include "ws_frames.hpp"

#include <glib.h>

namespace sl::relay::ws {

namespace {

bool control(uint8_t opcode) { return opcode & 0x8; }

// Close codes a peer may send (RFC 6455 section 7.4).
bool valid_close_code(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

}  // namespace

std::optional<Event> Decoder::fail(uint16_t code, std::string why) {
  over_ = true;
  buffer_.clear();
  read_ = 0;
  message_.clear();
  return Event{Event::Kind::Error, std::move(why), code};
}

std::optional<Event> Decoder::next() {
  while (!over_) {
    const std::string_view rest(buffer_.data() + read_, buffer_.size() - read_);
    if (rest.size() < 2) break;
    const auto b0 = uint8_t(rest[0]), b1 = uint8_t(rest[1]);
    const bool fin = b0 & 0x80;
    const uint8_t opcode = b0 & 0x0F;
    if (b0 & 0x70) return fail(kProtocolError, "a frame with reserved bits set (no extension was agreed)");
    if (!(b1 & 0x80)) return fail(kProtocolError, "an unmasked frame from a client");
    uint64_t length = b1 & 0x7F;
    size_t header = 2;
    if (length == 126) {
      if (rest.size() < 4) break;
      length = (uint64_t(uint8_t(rest[2])) << 8) | uint8_t(rest[3]);
      header = 4;
    } else if (length == 127) {
      if (rest.size() < 10) break;
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | uint8_t(rest[2 + i]);
      header = 10;
      if (length >> 63) return fail(kProtocolError, "a frame length with its top bit set");
    }
    if (control(opcode)) {
      if (!fin) return fail(kProtocolError, "a fragmented control frame");
      if (length > 125) return fail(kProtocolError, "a control frame over 125 bytes");
      if (opcode > uint8_t(Opcode::Pong)) return fail(kProtocolError, "unknown opcode " + std::to_string(opcode));
    } else {
      if (opcode > uint8_t(Opcode::Binary)) return fail(kProtocolError, "unknown opcode " + std::to_string(opcode));
      if (opcode == uint8_t(Opcode::Continuation) && !in_message_)
        return fail(kProtocolError, "a continuation frame with no message under way");
      if (opcode != uint8_t(Opcode::Continuation) && in_message_)
        return fail(kProtocolError, "a new message before the last one's final fragment");
      // Judged from the header, before the payload is waited for or held.
      if (message_.size() + length > max_message_)
        return fail(kTooBig, "a message too large (" + std::to_string(message_.size() + length) +
                                 " bytes or more; the limit is " + std::to_string(max_message_) + ")");
    }
    header += 4;  // the mask
    if (rest.size() < header + length) break;
    const char *mask = rest.data() + header - 4;
    std::string payload(rest.data() + header, size_t(length));
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = char(payload[i] ^ mask[i & 3]);
    read_ += header + size_t(length);
    // Decoded bytes go once they are half the buffer: a copy amortised over what was read.
    if (read_ == buffer_.size()) {
      if (buffer_.capacity() > 65536)
        std::string().swap(buffer_);  // a large message's room does not stay with an idle connection
      else
        buffer_.clear();
      read_ = 0;
    } else if (read_ > buffer_.size() / 2) {
      buffer_.erase(0, read_);
      read_ = 0;
    }
    switch (Opcode(opcode)) {
      case Opcode::Ping:
        return Event{Event::Kind::Ping, std::move(payload)};
      case Opcode::Pong:
        return Event{Event::Kind::Pong, std::move(payload)};
      case Opcode::Close: {
        if (payload.size() == 1) return fail(kProtocolError, "a close frame of one byte");
        uint16_t code = kNoStatus;
        std::string reason;
        if (payload.size() >= 2) {
          code = uint16_t((uint8_t(payload[0]) << 8) | uint8_t(payload[1]));
          if (!valid_close_code(code)) return fail(kProtocolError, "close code " + std::to_string(code));
          reason = payload.substr(2);
          if (!g_utf8_validate(reason.data(), gssize(reason.size()), nullptr))
            return fail(kBadData, "a close reason that is not UTF-8");
        }
        over_ = true;
        return Event{Event::Kind::Close, std::move(reason), code};
      }
      default:
        break;
    }
    if (opcode != uint8_t(Opcode::Continuation)) {
      message_opcode_ = Opcode(opcode);
      in_message_ = true;
    }
    message_ += payload;
    if (!fin) continue;
    in_message_ = false;
    std::string whole = std::move(message_);
    message_.clear();
    if (message_opcode_ == Opcode::Binary) return Event{Event::Kind::Binary, std::move(whole)};
    if (!g_utf8_validate(whole.data(), gssize(whole.size()), nullptr))
      return fail(kBadData, "a text message that is not UTF-8");
    return Event{Event::Kind::Text, std::move(whole)};
  }
  return std::nullopt;
}

std::string encode(Opcode opcode, std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 10);
  frame.push_back(char(0x80 | uint8_t(opcode)));
  const uint64_t n = payload.size();
  if (n < 126) {
    frame.push_back(char(n));
  } else if (n <= 0xFFFF) {
    frame.push_back(char(126));
    frame.push_back(char(n >> 8));
    frame.push_back(char(n & 0xFF));
  } else {
    frame.push_back(char(127));
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(char((n >> shift) & 0xFF));
  }
  frame.append(payload);
  return frame;
}

std::string close_payload(uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(char(code >> 8));
  payload.push_back(char(code & 0xFF));
  // A control frame carries at most 125 bytes; cut at a character's start.
  size_t keep = std::min<size_t>(reason.size(), 123);
  while (keep > 0 && keep < reason.size() && (uint8_t(reason[keep]) & 0xC0) == 0x80) --keep;
  payload.append(reason.substr(0, keep));
  return payload;
}

}  // namespace sl::relay::ws
