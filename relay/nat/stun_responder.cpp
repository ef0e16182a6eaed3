#include "stun_responder.hpp"

#include <cstring>

namespace sl::relay {

namespace {
constexpr uint32_t kMagicCookie = 0x2112A442;
constexpr uint16_t kBindingRequest = 0x0001, kBindingSuccess = 0x0101;
constexpr uint16_t kMappedAddress = 0x0001, kXorMappedAddress = 0x0020, kSoftware = 0x8022, kFingerprint = 0x8028;
constexpr size_t kHeader = 20;

uint16_t get16(const std::string &b, size_t at) { return uint16_t(uint8_t(b[at]) << 8 | uint8_t(b[at + 1])); }
uint32_t get32(const std::string &b, size_t at) { return uint32_t(get16(b, at)) << 16 | get16(b, at + 2); }
void put16(std::string &b, uint16_t v) {
  b += char(v >> 8);
  b += char(v & 0xff);
}
void put32(std::string &b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v & 0xffff));
}

uint32_t crc32(const std::string &data) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void attribute(std::string &msg, uint16_t type, const std::string &value) {
  put16(msg, type);
  put16(msg, uint16_t(value.size()));
  msg += value;
  while (msg.size() % 4) msg += '\0';
}

void set_length(std::string &msg) {
  const size_t body = msg.size() - kHeader;
  msg[2] = char(body >> 8);
  msg[3] = char(body & 0xff);
}
}  // namespace

std::optional<std::string> stun_binding_response(const std::string &req, GInetSocketAddress *from) {
  if (req.size() < kHeader || (uint8_t(req[0]) & 0xc0) != 0) return std::nullopt;
  if (get16(req, 0) != kBindingRequest) return std::nullopt;
  const size_t length = get16(req, 2);
  if (length % 4 != 0 || kHeader + length != req.size()) return std::nullopt;
  // Without the magic cookie it is an RFC 3489 client (libnice discovers its
  // server-reflexive address that way): it gets a plain MAPPED-ADDRESS.
  const bool classic = get32(req, 4) != kMagicCookie;

  GInetAddress *address = g_inet_socket_address_get_address(from);
  const uint16_t port = g_inet_socket_address_get_port(from);
  const bool v6 = g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6;
  const size_t size = g_inet_address_get_native_size(address);
  const auto *bytes = static_cast<const uint8_t *>(g_inet_address_to_bytes(address));

  std::string msg;
  put16(msg, kBindingSuccess);
  put16(msg, 0);
  msg += req.substr(4, 16);  // magic cookie and transaction id, as asked
  if (classic) {
    std::string value;
    value += '\0';
    value += char(v6 ? 0x02 : 0x01);
    put16(value, port);
    value.append(reinterpret_cast<const char *>(bytes), size);
    attribute(msg, kMappedAddress, value);
    set_length(msg);
    return msg;
  }
  // XOR-MAPPED-ADDRESS: the port with the cookie's top half, the address with
  // the cookie (and, for IPv6, the transaction id).
  std::string value;
  value += '\0';
  value += char(v6 ? 0x02 : 0x01);
  put16(value, uint16_t(port ^ (kMagicCookie >> 16)));
  for (size_t i = 0; i < size; ++i) value += char(bytes[i] ^ uint8_t(req[4 + i]));
  attribute(msg, kXorMappedAddress, value);
  attribute(msg, kSoftware, "sightline-relay");
  // FINGERPRINT: CRC-32 of everything before it, with the length already counting it.
  const size_t before = msg.size();
  put16(msg, kFingerprint);
  put16(msg, 4);
  put32(msg, 0);
  set_length(msg);
  const uint32_t fingerprint = crc32(msg.substr(0, before)) ^ 0x5354554e;
  msg.resize(before + 4);
  put32(msg, fingerprint);
  return msg;
}

StunResponder::~StunResponder() {
  if (source_) {
    g_source_destroy(source_);
    g_source_unref(source_);
  }
}

Result<void> StunResponder::listen(const std::string &host, int port) {
  auto address = adopt(g_inet_socket_address_new_from_string(host.c_str(), guint(port)));
  if (!address) return fail("not an address: " + host);
  GError *raw = nullptr;
  socket_ = adopt(
      g_socket_new(g_socket_address_get_family(address.get()), G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &raw));
  if (!socket_ || !g_socket_bind(socket_.get(), address.get(), TRUE, &raw)) {
    Owned<GError> error(raw);
    return fail(std::string(error ? error->message : "cannot bind"));
  }
  g_socket_set_blocking(socket_.get(), FALSE);
  source_ = g_socket_create_source(socket_.get(), G_IO_IN, nullptr);
  g_source_set_callback(
      source_, G_SOURCE_FUNC(+[](GSocket *socket, GIOCondition, gpointer data) -> gboolean {
        auto *self = static_cast<StunResponder *>(data);
        char buffer[1500];
        // Bounded: at most 64 datagrams per wake-up, then back to the main loop.
        for (int i = 0; i < 64; ++i) {
          GSocketAddress *from = nullptr;
          const gssize n = g_socket_receive_from(socket, &from, buffer, sizeof buffer, nullptr, nullptr);
          if (n < 0) break;
          Owned<GSocketAddress> sender(from);
          if (!G_IS_INET_SOCKET_ADDRESS(from)) continue;
          auto reply = stun_binding_response(std::string(buffer, size_t(n)), G_INET_SOCKET_ADDRESS(from));
          if (!reply) g_debug("stun: ignored a %zd-byte datagram that is not a Binding request", n);
          if (reply && g_socket_send_to(socket, from, reply->data(), reply->size(), nullptr, nullptr) > 0)
            ++self->answered_;
        }
        return G_SOURCE_CONTINUE;
      }),
      this, nullptr);
  g_source_attach(source_, nullptr);
  return ok();
}

}  // namespace sl::relay
