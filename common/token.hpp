// Signed access tokens for browsers and API clients: JWT with HS256 (RFC 7519),
// signed and checked with GLib's HMAC. Claims: a role (viewer < operator < admin),
// an expiry, and optionally the cameras the holder may see.
#pragma once

#include "result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sl::auth {

enum class Role { Viewer = 1, Operator = 2, Admin = 3 };
std::optional<Role> role_from(std::string_view name);
const char *role_name(Role role);

struct Claims {
  Role role = Role::Viewer;
  int64_t issued_at_s = 0;
  int64_t expires_at_s = 0;
  std::string subject;               // optional: who it was made for
  std::vector<std::string> cameras;  // empty: every camera
  bool may_see(const std::string &camera) const;
  bool operator==(const Claims &) const = default;
};

std::string sign_token(const Claims &claims, std::string_view secret);
// A JWT of any claims (JSON object text), signed HS256.
std::string sign_jwt(std::string_view claims_json, std::string_view secret);
// The claims of a well-formed, correctly signed, unexpired token; otherwise why not.
Result<Claims> verify_token(std::string_view token, std::string_view secret, int64_t now_s);

// Compares in time independent of where the first difference is.
bool equal_secrets(std::string_view a, std::string_view b);

// base64url without padding (RFC 4648 §5), as JWT uses it.
std::string base64url(std::string_view bytes);
std::optional<std::string> unbase64url(std::string_view text);

}  // namespace sl::auth
