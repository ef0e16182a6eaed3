#include "turn.hpp"

#include "gobj.hpp"

#include <glib.h>

#include <algorithm>

namespace sl::relay {

TurnCredentials turn_credentials(const std::string &secret, const std::string &name, int64_t expires_at_s) {
  TurnCredentials c;
  c.username = std::to_string(expires_at_s) + ":" + name;
  GHmac *h = g_hmac_new(G_CHECKSUM_SHA1, reinterpret_cast<const guchar *>(secret.data()), secret.size());
  g_hmac_update(h, reinterpret_cast<const guchar *>(c.username.data()), gssize(c.username.size()));
  guint8 digest[20];
  gsize len = sizeof digest;
  g_hmac_get_digest(h, digest, &len);
  g_hmac_unref(h);
  c.password = take_string(g_base64_encode(digest, len));
  return c;
}

int64_t turn_expiry_s(int64_t now_s, int64_t valid_for_s, int64_t not_after_s) {
  const int64_t by_lifetime = now_s + valid_for_s;
  return not_after_s > 0 ? std::min(by_lifetime, not_after_s) : by_lifetime;
}

std::vector<proto::IceServer> turn_servers(const std::vector<std::string> &urls, const std::string &secret,
                                           const std::string &name, int64_t expires_at_s) {
  if (urls.empty() || secret.empty()) return {};
  const auto c = turn_credentials(secret, name, expires_at_s);
  return {proto::IceServer{urls, c.username, c.password}};
}

}  // namespace sl::relay
