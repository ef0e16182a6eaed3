#include "settings.hpp"

#include "control.hpp"
#include "gobj.hpp"
#include "json_io.hpp"
#include "mqtt_url.hpp"

#include <glib.h>

#include <cstdlib>
#include <sstream>

namespace sl::relay {

using config::Kind;

const std::vector<config::Option> &relay_options() {
  static const std::vector<config::Option> options = {
      {"listen", Kind::String, "127.0.0.1:8080", "Address and port to serve HTTP and WebSockets on (HOST:PORT)."},
      {"web-root", Kind::String, "", "Folder of the web app. Default: the installed one, or the source tree's web/."},
      {"stun", Kind::StringList, "",
       "STUN server URL handed to viewers and agents, e.g. stun:stun.example.org:3478 (repeatable)."},
      {"heartbeat-interval", Kind::Int, "5", "Seconds between heartbeats; a socket silent for 3 intervals is dropped.",
       1, 300},
      {"session-timeout", Kind::Int, "10", "Seconds a session may wait for the camera's answer.", 1, 300},
      {"session-hold", Kind::Int, "15",
       "Seconds a page's sessions outlive its socket: a page whose network changed takes them back with an ICE "
       "restart (0: they end with the socket).",
       0, 120},
      {"max-message-size", Kind::Int, "65536", "Largest WebSocket message accepted, in bytes.", 1024, 16 * 1024 * 1024},
      {"mqtt", Kind::String, "", "MQTT broker for commands and camera state: tcp://HOST:PORT or ssl://HOST:PORT."},
      {"mqtt-user", Kind::String, "", "MQTT user name."},
      {"mqtt-password", Kind::String, "", "MQTT password."},
      {"mqtt-ca-file", Kind::String, "", "ssl:// only: the CA certificate to trust (default: the system's)."},
      {"mqtt-prefix", Kind::String, "sightline", "Topic prefix, as the agents use it."},
      {"relay-id", Kind::String, "",
       "This relay's name among the relays sharing the broker (default: the host name and port); unique."},
      {"command-timeout", Kind::Int, "10", "Seconds to wait for a camera's ack before answering 504.", 1, 300},
      {"token-secret", Kind::String, "", "Secret that signs browser and API tokens (at least 32 characters)."},
      {"token-secret-file", Kind::String, "", "File holding the token secret (instead of token-secret)."},
      {"device-secrets", Kind::String, "", "File of agents allowed in: one 'device-id secret' per line."},
      {"insecure-dev", Kind::Bool, "false",
       "Development only: no tokens, no device secrets. Refused unless listening on loopback."},
      {"allowed-origins", Kind::StringList, "",
       "Origins whose pages may open WebSockets (repeatable; * for any). Default: the relay's own."},
      {"cors-origins", Kind::StringList, "",
       "Origins whose scripts may call the HTTP API from the browser (CORS; repeatable; * for any). Default: none."},
      {"tls-cert", Kind::String, "", "PEM certificate (chain) for https:// and wss://."},
      {"tls-key", Kind::String, "", "PEM private key of tls-cert."},
      {"tls-client-ca", Kind::String, "",
       "Devices may prove who they are with a client certificate this CA issued (mutual TLS; the device id is its "
       "common name). Needs tls-cert."},
      {"tls-client-revoked", Kind::String, "",
       "File of revoked client certificates: one SHA-256 fingerprint a line (re-read on SIGHUP)."},
      {"trusted-proxies", Kind::StringList, "",
       "Addresses of TLS-terminating proxies whose proxy-client-header is believed (repeatable)."},
      {"proxy-client-header", Kind::String, "",
       "Header in which a trusted proxy passes the device id from the client certificate it verified, e.g. "
       "X-Client-Cert-CN."},
      {"handshake-timeout", Kind::Int, "10",
       "Seconds a client has to send its whole request (HTTP or WebSocket upgrade).", 1, 300},
      {"turn", Kind::StringList, "",
       "TURN server URL handed out with per-session credentials, e.g. turn:turn.example.org:3478 (repeatable)."},
      {"turn-secret", Kind::String, "", "coturn's static-auth-secret: signs the per-session TURN credentials."},
      {"turn-secret-file", Kind::String, "", "File holding the TURN secret (instead of turn-secret)."},
      {"session-lifetime", Kind::Int, "43200",
       "Seconds a viewing session lasts at most (its TURN credentials expire then; the page renews).", 60, 7 * 86400},
      {"stun-listen", Kind::String, "",
       "Answer STUN binding requests on this UDP HOST:PORT (a small deployment without coturn)."},
      {"max-messages-per-second", Kind::Int, "50",
       "Messages a WebSocket may send per second before it is closed (an agent: more by 16 for each "
       "offer it was sent in the last two seconds).",
       1, 100000},
      {"max-sessions-per-socket", Kind::Int, "16", "Sessions one viewer socket (one page) may hold at once.", 1, 10000},
      {"max-sessions-per-client", Kind::Int, "32", "Sessions one client address may hold at once, across its sockets.",
       1, 100000},
      {"max-sessions-per-camera", Kind::Int, "64", "Viewers one camera may have at once.", 1, 10000},
      {"max-pending-sessions", Kind::Int, "4", "Sessions one viewer socket may have waiting for the camera's answer.",
       1, 1000},
      {"max-agents", Kind::Int, "100000", "Agent sockets held at once; more are refused with 503 and Retry-After.", 1,
       10000000},
      {"max-viewers", Kind::Int, "10000", "Viewer sockets (pages) held at once; more are refused with 503.", 1,
       10000000},
      {"busy-lag-ms", Kind::Int, "500",
       "The relay counts as saturated while its main loop runs this late: new sockets are refused with 503.", 50,
       60000},
      {"peer-queue-kb", Kind::Int, "256",
       "Bytes a socket may have waiting to be sent before its figure updates are dropped (it gets a fresh copy "
       "once it reads again); past 16 times this, it is closed.",
       16, 1048576},
      {"fanout", Kind::String, "auto",
       "Who sends a camera's stream to its viewers: direct (the camera, one stream each), relay (the relay forwards "
       "the camera's one stream), or auto (relay from fanout-viewers viewers on, or past the camera's uplink-kbps)."},
      {"fanout-viewers", Kind::Int, "3", "With fanout = auto: viewers of one camera from which the relay forwards.", 1,
       10000},
      {"fanout-camera", Kind::StringList, "",
       "Per-camera fan-out: CAMERA=direct|relay|auto, overriding 'fanout' for that camera (repeatable)."},
      {"fanout-agent", Kind::String, "",
       "The sightline-agent the relay runs as its fan-out workers. Default: the one beside the relay, or on PATH."},
      {"fanout-ice-address", Kind::StringList, "",
       "Local addresses the fan-out workers' ICE may use (as the agent's ice-address); empty: all."},
      {"fanout-idle", Kind::Int, "10", "Seconds a fan-out worker with no viewer is kept before it stops.", 1, 3600},
      {"sync-delay", Kind::Int, "400",
       "Milliseconds from capture to display at which pages with 'in step' on show every camera (the same for "
       "every viewer of this relay; more than the slowest viewer's own delay). docs/playback-sync.md.",
       50, 4000},
  };
  return options;
}

Result<HostPort> parse_listen(const std::string &text) {
  std::string h, p;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail("an IPv6 address goes in brackets: [ADDRESS]:PORT");
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return fail("no :PORT");
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  char *end = nullptr;
  const long n = std::strtol(p.c_str(), &end, 10);
  if (h.empty() || p.empty() || *end != '\0' || n < 0 || n > 65535) return fail("not HOST:PORT with a port 0-65535");
  auto address = adopt(g_inet_address_new_from_string(h.c_str()));
  if (!address && h != "localhost") return fail("'" + h + "' is not an IP address");
  return HostPort{h == "localhost" ? "127.0.0.1" : h, int(n)};
}

Result<std::map<std::string, std::string>> parse_device_secrets(const std::string &text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream words(line);
    std::string id, secret, extra;
    words >> id;
    if (id.empty() || id[0] == '#') continue;
    words >> secret >> extra;
    const std::string where = "line " + std::to_string(n) + ": ";
    if (!json::valid_id(id)) return fail(where + "'" + id + "' is not a device id (A-Z a-z 0-9 . _ -)");
    if (is_fanout_device(id))
      return fail(where + "'" + id + "': ids starting with " + kFanoutDevicePrefix + " are the relay's own");
    if (secret.size() < 16) return fail(where + "the secret of " + id + " must be at least 16 characters");
    if (!extra.empty()) return fail(where + "expected 'id secret'");
    if (!out.emplace(id, secret).second) return fail(where + id + " appears twice");
  }
  return out;
}

Result<std::string> token_secret(const config::Settings &s) {
  auto secret = config::read_secret(s, "token-secret");
  if (!secret) return fail(secret.error());
  if (secret->size() < 32)
    return fail(
        "Setting 'token-secret' (or 'token-secret-file') is needed, at least 32 characters "
        "(e.g. openssl rand -hex 32); or 'insecure-dev' on a loopback address for development.");
  return secret;
}

bool is_loopback(const std::string &host) {
  auto address = adopt(g_inet_address_new_from_string(host.c_str()));
  return address && g_inet_address_get_is_loopback(address.get());
}

std::string default_web_root() {
  auto has_index = [](const std::string &dir) {
    return g_file_test((dir + "/index.html").c_str(), G_FILE_TEST_EXISTS);
  };
  if (has_index(SL_WEB_INSTALL_DIR)) return SL_WEB_INSTALL_DIR;
  if (has_index(SL_SOURCE_WEB_DIR)) return SL_SOURCE_WEB_DIR;
  return SL_WEB_INSTALL_DIR;
}

Result<RelaySettings> relay_settings(const config::Settings &s) {
  RelaySettings r;
  auto listen = parse_listen(s.str("listen"));
  if (!listen)
    return fail("Setting 'listen' must be HOST:PORT with an IP address (e.g. 127.0.0.1:8080 or [::]:8080), not '" +
                s.str("listen") + "'.");
  r.listen_host = listen->host;
  r.listen_port = listen->port;
  r.web_root = s.str("web-root").empty() ? default_web_root() : s.str("web-root");
  if (!g_file_test((r.web_root + "/index.html").c_str(), G_FILE_TEST_EXISTS))
    return fail("Setting 'web-root': no index.html in " + r.web_root + ".");
  for (const auto &url : s.list("stun")) {
    if (url.rfind("stun:", 0) != 0 && url.rfind("stuns:", 0) != 0)
      return fail("Setting 'stun' must be a stun: URL such as stun:stun.example.org:3478, not '" + url + "'.");
    r.ice_servers.push_back(proto::IceServer{{url}, "", ""});
  }
  r.heartbeat_interval_s = int(s.integer("heartbeat-interval"));
  r.session_timeout_s = int(s.integer("session-timeout"));
  r.max_message_size = int(s.integer("max-message-size"));
  r.mqtt_url = s.str("mqtt");
  if (!r.mqtt_url.empty()) {
    if (auto uri = broker_uri(r.mqtt_url); !uri) return fail("Setting 'mqtt' " + uri.error() + ".");
  }
  r.mqtt_user = s.str("mqtt-user");
  r.mqtt_password = s.str("mqtt-password");
  r.mqtt_ca_file = s.str("mqtt-ca-file");
  r.mqtt_prefix = s.str("mqtt-prefix");
  r.relay_id = s.str("relay-id");
  if (r.relay_id.empty()) {
    // The host name and port, made a valid id (a-z 0-9 . _ -).
    std::string id = std::string(g_get_host_name()) + "-" + std::to_string(r.listen_port);
    for (char &c : id)
      if (!g_ascii_isalnum(c) && c != '.' && c != '_' && c != '-') c = '_';
    r.relay_id = id.substr(0, json::kMaxIdLength);
  }
  if (!json::valid_id(r.relay_id))
    return fail("Setting 'relay-id' must be 1-64 characters of A-Z a-z 0-9 . _ -, not '" + r.relay_id + "'.");
  if (!control::valid_prefix(r.mqtt_prefix))
    return fail("Setting 'mqtt-prefix' must be 1-128 characters of A-Z a-z 0-9 . _ - /, not '" + r.mqtt_prefix + "'.");
  r.command_timeout_s = int(s.integer("command-timeout"));
  r.max_messages_per_second = int(s.integer("max-messages-per-second"));
  r.handshake_timeout_s = int(s.integer("handshake-timeout"));
  r.max_sessions_per_socket = int(s.integer("max-sessions-per-socket"));
  r.max_sessions_per_client = int(s.integer("max-sessions-per-client"));
  r.max_sessions_per_camera = int(s.integer("max-sessions-per-camera"));
  r.max_pending_sessions = int(s.integer("max-pending-sessions"));
  r.max_agents = int(s.integer("max-agents"));
  r.max_viewers = int(s.integer("max-viewers"));
  r.busy_lag_ms = int(s.integer("busy-lag-ms"));
  r.peer_queue_bytes = int(s.integer("peer-queue-kb")) * 1024;
  auto fanout = parse_fanout_mode(s.str("fanout"));
  if (!fanout) return fail("Setting 'fanout' " + fanout.error() + ".");
  r.fanout.mode = *fanout;
  r.fanout.viewers = int(s.integer("fanout-viewers"));
  auto overrides = parse_fanout_overrides(s.list("fanout-camera"));
  if (!overrides) return fail("Setting 'fanout-camera': " + overrides.error() + ".");
  r.fanout.cameras = *overrides;
  r.fanout.idle_ms = s.integer("fanout-idle") * 1000;
  r.sync_delay_ms = int(s.integer("sync-delay"));
  r.fanout_agent = s.str("fanout-agent");
  if (!r.fanout_agent.empty() && !g_file_test(r.fanout_agent.c_str(), G_FILE_TEST_IS_EXECUTABLE))
    return fail("Setting 'fanout-agent': " + r.fanout_agent + " is not an executable file.");
  r.fanout_ice_addresses = s.list("fanout-ice-address");
  r.turn_urls = s.list("turn");
  for (const auto &url : r.turn_urls)
    if (url.rfind("turn:", 0) != 0 && url.rfind("turns:", 0) != 0)
      return fail("Setting 'turn' must be a turn: or turns: URL such as turn:turn.example.org:3478, not '" + url +
                  "'.");
  auto turn_secret = config::read_secret(s, "turn-secret");
  if (!turn_secret) return fail(turn_secret.error());
  r.turn_secret = *turn_secret;
  if (!r.turn_urls.empty() && r.turn_secret.empty())
    return fail("Setting 'turn' needs 'turn-secret' (coturn's static-auth-secret) to mint credentials.");
  r.session_lifetime_s = int(s.integer("session-lifetime"));
  r.session_hold_s = int(s.integer("session-hold"));
  if (const std::string stun = s.str("stun-listen"); !stun.empty()) {
    auto where = parse_listen(stun);
    if (!where) return fail("Setting 'stun-listen' must be HOST:PORT with an IP address, not '" + stun + "'.");
    r.stun_listen_host = where->host;
    r.stun_listen_port = where->port;
  }
  r.allowed_origins = s.list("allowed-origins");
  r.cors_origins = s.list("cors-origins");
  r.tls_cert = s.str("tls-cert");
  r.tls_key = s.str("tls-key");
  if (r.tls_cert.empty() != r.tls_key.empty()) return fail("Settings 'tls-cert' and 'tls-key' go together.");
  r.tls_client_ca = s.str("tls-client-ca");
  if (!r.tls_client_ca.empty() && r.tls_cert.empty())
    return fail("Setting 'tls-client-ca' needs 'tls-cert' and 'tls-key' (client certificates come with TLS).");
  if (!r.tls_client_ca.empty() && !g_file_test(r.tls_client_ca.c_str(), G_FILE_TEST_IS_REGULAR))
    return fail("Setting 'tls-client-ca': no such file " + r.tls_client_ca + ".");
  r.tls_client_revoked = s.str("tls-client-revoked");
  r.trusted_proxies = s.list("trusted-proxies");
  r.proxy_client_header = s.str("proxy-client-header");
  if (r.proxy_client_header.empty() != r.trusted_proxies.empty())
    return fail("Settings 'trusted-proxies' and 'proxy-client-header' go together.");
  r.insecure_dev = s.flag("insecure-dev");
  if (r.insecure_dev) {
    if (!is_loopback(r.listen_host))
      return fail("Setting 'insecure-dev' turns authentication off and is refused on a non-loopback 'listen' (" +
                  r.listen_host + ").");
    return r;
  }
  auto secret = token_secret(s);
  if (!secret) return fail(secret.error());
  r.token_secret = *secret;
  r.device_secrets_file = s.str("device-secrets");
  if (r.device_secrets_file.empty()) {
    // Devices may prove who they are with certificates instead.
    if (!r.tls_client_ca.empty() || !r.proxy_client_header.empty()) return r;
    return fail(
        "Setting 'device-secrets' is needed: a file with one 'device-id secret' line per agent allowed in (or "
        "'tls-client-ca': devices with certificates).");
  }
  auto devices = load_device_secrets(r.device_secrets_file);
  if (!devices) return fail(devices.error());
  r.device_secrets = *devices;
  return r;
}

MqttOptions mqtt_options(const RelaySettings &settings, std::string client_id) {
  MqttOptions options;
  options.url = settings.mqtt_url;
  options.user = settings.mqtt_user;
  options.password = settings.mqtt_password;
  options.ca_file = settings.mqtt_ca_file;
  options.client_id = std::move(client_id);
  options.clean_session = true;
  return options;
}

Result<std::map<std::string, std::string>> load_device_secrets(const std::string &path) {
  gchar *text = nullptr;
  if (!g_file_get_contents(path.c_str(), &text, nullptr, nullptr))
    return fail("Setting 'device-secrets': cannot read " + path + ".");
  auto parsed = parse_device_secrets(text);
  g_free(text);
  if (!parsed) return fail("Setting 'device-secrets' (" + path + "), " + parsed.error() + ".");
  return parsed;
}

}  // namespace sl::relay
