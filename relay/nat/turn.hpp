// Short-lived TURN credentials in coturn's REST scheme (use-auth-secret):
// username "EXPIRY:NAME", password base64(HMAC-SHA1(secret, username)). coturn
// checks them with the same shared secret and refuses them after EXPIRY.
#pragma once

#include "protocol.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sl::relay {

struct TurnCredentials {
  std::string username;
  std::string password;
};
TurnCredentials turn_credentials(const std::string &secret, const std::string &name, int64_t expires_at_s);

// When a session's TURN credentials expire: `valid_for_s` from `now_s`, but never
// after `not_after_s` (the expiry of the token that asked for them; 0: none), so
// credentials never outlive the token. Wall-clock seconds, as coturn compares.
int64_t turn_expiry_s(int64_t now_s, int64_t valid_for_s, int64_t not_after_s);

// The relay's TURN URLs with credentials for `name` (empty when no TURN is configured).
std::vector<proto::IceServer> turn_servers(const std::vector<std::string> &urls, const std::string &secret,
                                           const std::string &name, int64_t expires_at_s);

}  // namespace sl::relay
