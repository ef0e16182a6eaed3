#include "token.hpp"

#include "gobj.hpp"
#include "json_io.hpp"

#include <glib.h>

#include <algorithm>

namespace sl::auth {

namespace {
constexpr size_t kMaxTokenBytes = 4096;
constexpr size_t kMaxCameras = 256;

std::string hmac_sha256(std::string_view key, std::string_view data) {
  GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(key.data()), key.size());
  g_hmac_update(h, reinterpret_cast<const guchar *>(data.data()), gssize(data.size()));
  guint8 digest[32];
  gsize len = sizeof digest;
  g_hmac_get_digest(h, digest, &len);
  g_hmac_unref(h);
  return std::string(reinterpret_cast<const char *>(digest), len);
}
}  // namespace

std::optional<Role> role_from(std::string_view name) {
  if (name == "viewer") return Role::Viewer;
  if (name == "operator") return Role::Operator;
  if (name == "admin") return Role::Admin;
  return std::nullopt;
}

const char *role_name(Role role) {
  switch (role) {
    case Role::Viewer:
      return "viewer";
    case Role::Operator:
      return "operator";
    case Role::Admin:
      return "admin";
  }
  return "viewer";
}

bool Claims::may_see(const std::string &camera) const {
  return cameras.empty() || std::find(cameras.begin(), cameras.end(), camera) != cameras.end();
}

bool equal_secrets(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    diff |= static_cast<unsigned char>((i < a.size() ? a[i] : 0) ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

std::string base64url(std::string_view bytes) {
  std::string s = take_string(g_base64_encode(reinterpret_cast<const guchar *>(bytes.data()), bytes.size()));
  for (char &c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::optional<std::string> unbase64url(std::string_view text) {
  std::string s(text);
  for (char &c : s) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!g_ascii_isalnum(c))
      return std::nullopt;
  }
  if (s.size() % 4 == 1) return std::nullopt;
  while (s.size() % 4) s += '=';
  gsize len = 0;
  guchar *raw = g_base64_decode(s.c_str(), &len);
  std::string out(reinterpret_cast<const char *>(raw), len);
  g_free(raw);
  return out;
}

std::string sign_token(const Claims &c, std::string_view secret) {
  json::Writer w;
  w.str("role", role_name(c.role))
      .integer("iat", long(c.issued_at_s))
      .integer("exp", long(c.expires_at_s))
      .opt_str("sub", c.subject)
      .opt_strings("cameras", c.cameras);
  return sign_jwt(w.done(), secret);
}

std::string sign_jwt(std::string_view claims_json, std::string_view secret) {
  const std::string signing_input = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(claims_json);
  return signing_input + "." + base64url(hmac_sha256(secret, signing_input));
}

Result<Claims> verify_token(std::string_view token, std::string_view secret, int64_t now_s) {
  if (token.empty()) return fail("no token");
  if (token.size() > kMaxTokenBytes) return fail("token too long");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return fail("not a JWT (three dot-separated parts)");
  const auto header = unbase64url(token.substr(0, dot1));
  const auto payload = unbase64url(token.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto signature = unbase64url(token.substr(dot2 + 1));
  if (!header || !payload || !signature) return fail("not base64url");
  // The signature first: nothing else of a forged token is worth reading.
  if (!equal_secrets(*signature, hmac_sha256(secret, token.substr(0, dot2)))) return fail("bad signature");
  auto h = json::parse_object(*header);
  if (!h) return fail("header: " + h.error());
  json::Reader hr(json_node_get_object(h->get()));
  if (hr.str("alg", 16) != "HS256" || !hr.ok()) return fail("only HS256 tokens are accepted");
  auto p = json::parse_object(*payload);
  if (!p) return fail("claims: " + p.error());
  JsonObject *obj = json_node_get_object(p->get());
  json::Reader r(obj);
  Claims c;
  const std::string role = r.str("role", 16);
  c.expires_at_s = r.integer("exp", 0, int64_t(1) << 40);
  if (json_object_has_member(obj, "iat")) c.issued_at_s = r.integer("iat", 0, int64_t(1) << 40);
  c.subject = r.str("sub", 256, false);
  if (json_object_has_member(obj, "cameras")) {
    c.cameras = r.strings("cameras", kMaxCameras, json::kMaxCameraIdLength);
    for (const auto &id : c.cameras)
      if (r.ok() && !json::valid_camera_id(id)) r.fail("cameras", "'" + id + "' is not a camera id");
  }
  if (!r.ok()) return fail("claims: " + r.error());
  const auto parsed = role_from(role);
  if (!parsed) return fail("claims: unknown role '" + role + "'");
  c.role = *parsed;
  if (now_s >= c.expires_at_s) return fail("token expired");
  return c;
}

}  // namespace sl::auth
