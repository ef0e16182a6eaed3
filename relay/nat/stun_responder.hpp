// A minimal STUN server (RFC 5389 Binding only, and RFC 3489 clients) built into the relay, so that
// a small deployment without coturn still gives browsers and agents their
// server-reflexive candidates: it answers each Binding request with the
// address and port it came from (XOR-MAPPED-ADDRESS), on the main loop.
#pragma once

#include "gobj.hpp"
#include "result.hpp"

#include <gio/gio.h>

#include <cstdint>
#include <optional>
#include <string>

namespace sl::relay {

// The Binding success response to `request` seen from `from`; nullopt for
// anything that is not a well-formed Binding request (ignored, as RFC 5389 says).
std::optional<std::string> stun_binding_response(const std::string &request, GInetSocketAddress *from);

class StunResponder {
 public:
  StunResponder() = default;
  ~StunResponder();
  // Binds the UDP socket, or says why not.
  Result<void> listen(const std::string &host, int port);
  uint64_t answered() const { return answered_; }

 private:
  Owned<GSocket> socket_;
  GSource *source_ = nullptr;
  uint64_t answered_ = 0;
};

}  // namespace sl::relay
