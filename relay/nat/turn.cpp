#include "turn.hpp"

#include "gobj.hpp"

#include <glib.h>

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

std::vector<proto::IceServer> turn_servers(const std::vector<std::string> &urls, const std::string &secret,
                                           const std::string &name, int64_t expires_at_s) {
  if (urls.empty() || secret.empty()) return {};
  const auto c = turn_credentials(secret, name, expires_at_s);
  return {proto::IceServer{urls, c.username, c.password}};
}

}  // namespace sl::relay
