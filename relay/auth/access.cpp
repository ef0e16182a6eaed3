#include "access.hpp"

#include "device_certificate.hpp"
#include "gobj.hpp"
#include "json_io.hpp"

#include <glib.h>

#include <sys/random.h>

#include <algorithm>

namespace sl::relay {

namespace {
std::string query_token(SoupServerMessage *msg) {
  const char *query = g_uri_get_query(soup_server_message_get_uri(msg));
  if (!query) return {};
  GHashTable *params = soup_form_decode(query);
  const char *token = static_cast<const char *>(g_hash_table_lookup(params, "token"));
  std::string out = token ? token : "";
  g_hash_table_unref(params);
  return out;
}

std::string header(SoupServerMessage *msg, const char *name) {
  const char *v = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), name);
  return v ? v : "";
}

// 32 bytes from the kernel's CSPRNG, as hex.
std::string random_key() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += size_t(n);
  }
  std::string out;
  for (unsigned char b : bytes) {
    char two[3];
    g_snprintf(two, sizeof two, "%02x", b);
    out += two;
  }
  return out;
}
}  // namespace

Access::Access(const RelaySettings &s)
    : insecure_(s.insecure_dev),
      token_secret_(s.token_secret),
      device_secrets_(s.device_secrets),
      allowed_origins_(s.allowed_origins),
      cors_origins_(s.cors_origins),
      client_certificates_(!s.tls_client_ca.empty()),
      trusted_proxies_(s.trusted_proxies),
      proxy_client_header_(s.proxy_client_header),
      worker_key_(random_key()) {}

bool Access::from_worker(SoupServerMessage *msg) const {
  const std::string authorization = header(msg, "Authorization");
  return authorization.rfind("Bearer ", 0) == 0 && auth::equal_secrets(worker_key_, authorization.substr(7));
}

Result<auth::Claims, Refusal> Access::client(SoupServerMessage *msg) const {
  if (insecure_) return auth::Claims{auth::Role::Admin, 0, 0, "insecure-dev", {}};
  // A fan-out worker: it watches any camera, and does nothing else.
  if (from_worker(msg)) return auth::Claims{auth::Role::Viewer, 0, 0, "fanout-worker", {}};
  std::string token;
  const std::string authorization = header(msg, "Authorization");
  if (authorization.rfind("Bearer ", 0) == 0)
    token = authorization.substr(7);
  else
    token = query_token(msg);
  if (token.empty())
    return fail(Refusal{SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                        "a token is needed: Authorization: Bearer TOKEN, or ?token=TOKEN"});
  auto verified = auth::verify_token(token, token_secret_, g_get_real_time() / G_USEC_PER_SEC);
  if (!verified) return fail(Refusal{SOUP_STATUS_UNAUTHORIZED, "unauthorized", "token refused: " + verified.error()});
  return *verified;
}

Result<std::string, Refusal> Access::device(SoupServerMessage *msg) const {
  if (insecure_) return std::string();
  auto refused = [](const std::string &why) { return fail(Refusal{SOUP_STATUS_UNAUTHORIZED, "unauthorized", why}); };
  // A client certificate (mutual TLS): GLib checked it against tls-client-ca in the handshake.
  if (GTlsCertificate *cert = client_certificates_ ? soup_server_message_get_tls_peer_certificate(msg) : nullptr) {
    const std::string name = describe(cert);
    if (const auto errors = certificate_errors(soup_server_message_get_tls_peer_certificate_errors(msg));
        !errors.empty())
      return refused(name + " refused: " + errors);
    if (revoked_.count(fingerprint(cert))) return refused(name + " refused: revoked (tls-client-revoked)");
    const std::string id = common_name(cert);
    if (!json::valid_id(id)) return refused(name + " refused: its common name is not a device id");
    return id;
  }
  // A TLS-terminating proxy that verified the certificate says whose it was; only
  // the proxies named in trusted-proxies are believed.
  std::string ignored;
  if (const std::string said = proxy_client_header_.empty() ? "" : header(msg, proxy_client_header_.c_str());
      !said.empty()) {
    const char *from = soup_server_message_get_remote_host(msg);
    const std::string address = from ? from : "";
    if (std::find(trusted_proxies_.begin(), trusted_proxies_.end(), address) != trusted_proxies_.end()) {
      if (!json::valid_id(said)) return refused("the proxy's " + proxy_client_header_ + " is not a device id");
      return said;
    }
    ignored = " (its " + proxy_client_header_ + " header was ignored: " + address + " is not a trusted proxy)";
  }
  const std::string authorization = header(msg, "Authorization");
  if (authorization.rfind("Basic ", 0) != 0)
    return refused("agents authenticate with a client certificate or their device id and secret" + ignored);
  gsize len = 0;
  guchar *raw = g_base64_decode(authorization.substr(6).c_str(), &len);
  const std::string pair(reinterpret_cast<const char *>(raw), len);
  g_free(raw);
  const size_t colon = pair.find(':');
  const std::string id = pair.substr(0, colon);
  const std::string secret = colon == std::string::npos ? "" : pair.substr(colon + 1);
  if (is_fanout_device(id)) {
    if (!auth::equal_secrets(worker_key_, secret)) return refused("unknown device or wrong secret" + ignored);
    return id;
  }
  auto known = device_secrets_.find(id);
  // The same answer for an unknown id and a wrong secret.
  if (known == device_secrets_.end() || !auth::equal_secrets(known->second, secret))
    return refused("unknown device or wrong secret" + ignored);
  return id;
}

Result<void, Refusal> Access::check_origin(SoupServerMessage *msg) const {
  const std::string origin = header(msg, "Origin");
  if (origin.empty()) return ok();  // not a browser (agents, scripts)
  for (const auto &allowed : allowed_origins_)
    if (allowed == "*" || allowed == origin) return ok();
  if (allowed_origins_.empty()) {
    // By default the page must come from this relay itself.
    const std::string host = header(msg, "Host");
    if (origin == "http://" + host || origin == "https://" + host) return ok();
  }
  return fail(Refusal{SOUP_STATUS_FORBIDDEN, "bad_origin", "origin " + origin + " is not allowed"});
}

std::vector<std::string> Access::replace_device_secrets(std::map<std::string, std::string> secrets) {
  std::vector<std::string> changed;
  for (const auto &[id, secret] : device_secrets_) {
    auto now = secrets.find(id);
    if (now == secrets.end() || now->second != secret) changed.push_back(id);
  }
  device_secrets_ = std::move(secrets);
  return changed;
}

bool Access::allow_cors(SoupServerMessage *msg) const {
  const std::string origin = header(msg, "Origin");
  if (origin.empty()) return false;
  bool listed = false;
  for (const auto &allowed : cors_origins_) listed = listed || allowed == "*" || allowed == origin;
  if (!listed) return false;
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  // The origin itself, never "*": tokens travel in the Authorization header.
  soup_message_headers_replace(h, "Access-Control-Allow-Origin", origin.c_str());
  soup_message_headers_append(h, "Vary", "Origin");
  soup_message_headers_replace(h, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  soup_message_headers_replace(h, "Access-Control-Allow-Headers", "Authorization, Content-Type");
  soup_message_headers_replace(h, "Access-Control-Max-Age", "600");
  return true;
}

void refuse(SoupServerMessage *msg, const Refusal &r) {
  json::Writer w("error");
  const std::string body = w.str("code", r.code).str("message", r.message).done();
  soup_server_message_set_status(msg, r.status, nullptr);
  if (r.status == SOUP_STATUS_UNAUTHORIZED)
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                                 "Bearer realm=\"sightline\"");
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body.data(), body.size());
}

}  // namespace sl::relay
