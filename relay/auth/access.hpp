// Who may do what at the relay: browsers and API clients carry a signed token
// (auth::Claims: role, expiry, cameras), agents a per-device secret. Read from
// the request (Authorization header, or ?token= where a browser cannot set
// headers: WebSocket upgrades, <img> sources). With insecure-dev everyone is
// an admin and any agent may claim any id (loopback only).
#pragma once

#include "result.hpp"
#include "settings.hpp"
#include "token.hpp"

#include <libsoup/soup.h>

#include <map>
#include <set>
#include <string>

namespace sl::relay {

struct Refusal {
  guint status = SOUP_STATUS_UNAUTHORIZED;  // 401, 403 or 404
  std::string code;                         // unauthorized, forbidden, bad_origin
  std::string message;
};

class Access {
 public:
  explicit Access(const RelaySettings &settings);

  // A browser's or API client's claims.
  Result<auth::Claims, Refusal> client(SoupServerMessage *msg) const;
  // An agent: the device id it proved ("" = any, insecure-dev): with a client
  // certificate the tls-client-ca issued (its common name), through a trusted
  // proxy's header, or with its secret.
  Result<std::string, Refusal> device(SoupServerMessage *msg) const;
  // WebSocket upgrades from browsers: their Origin must be allowed (agents send none).
  Result<void, Refusal> check_origin(SoupServerMessage *msg) const;

  // CORS for the HTTP API, only for the origins in cors-origins: adds the
  // Access-Control-* headers when the request's Origin is one of them. Returns
  // whether it did (a preflight from another origin is then answered plainly).
  bool allow_cors(SoupServerMessage *msg) const;

  bool insecure() const { return insecure_; }
  // The relay's own fan-out workers (docs/fanout.md) prove themselves with a key
  // made at start-up that never leaves the machine: as agents (device id
  // kFanoutDevicePrefix..., secret = the key) and on WHEP (Bearer key).
  const std::string &worker_key() const { return worker_key_; }
  bool from_worker(SoupServerMessage *msg) const;
  // A new list of devices (SIGHUP); returns the ids whose entry changed or went away.
  std::vector<std::string> replace_device_secrets(std::map<std::string, std::string> secrets);
  // A new revocation list (SIGHUP); applies to connections from now on.
  void replace_revoked(std::set<std::string> fingerprints) { revoked_ = std::move(fingerprints); }
  const std::set<std::string> &revoked() const { return revoked_; }

 private:
  bool insecure_;
  std::string token_secret_;
  std::map<std::string, std::string> device_secrets_;
  std::vector<std::string> allowed_origins_;
  std::vector<std::string> cors_origins_;
  bool client_certificates_;
  std::set<std::string> revoked_;
  std::vector<std::string> trusted_proxies_;
  std::string proxy_client_header_;
  std::string worker_key_;
};

// Writes a refusal as a JSON error body with its status (and WWW-Authenticate on 401).
void refuse(SoupServerMessage *msg, const Refusal &refusal);

}  // namespace sl::relay
