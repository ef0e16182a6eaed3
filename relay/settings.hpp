// The relay's settings: the option table (file keys = flags) and checked values.
#pragma once

#include "config.hpp"
#include "fanout_policy.hpp"
#include "mqtt_link.hpp"
#include "protocol.hpp"
#include "result.hpp"

#include <map>
#include <string>
#include <vector>

namespace sl::relay {

struct RelaySettings {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  std::string web_root;
  std::vector<proto::IceServer> ice_servers;
  int heartbeat_interval_s = 5;
  int session_timeout_s = 10;
  int session_hold_s = 15;  // a page's sessions outlive its socket this long (ICE restart, docs/protocol.md)
  int max_message_size = 65536;
  // Control plane (MQTT); no url = commands answer 'unavailable'.
  std::string mqtt_url;
  std::string mqtt_user, mqtt_password, mqtt_ca_file;
  std::string mqtt_prefix = "sightline";
  std::string relay_id;  // unique among the relays of one broker (default: host name and port)
  int command_timeout_s = 10;
  // Security (docs/security.md).
  bool insecure_dev = false;
  std::string token_secret;
  std::map<std::string, std::string> device_secrets;  // device id -> secret
  std::string device_secrets_file;                    // re-read on SIGHUP
  std::vector<std::string> allowed_origins;           // empty: the relay's own
  std::vector<std::string> cors_origins;              // empty: no CORS headers at all
  std::string tls_cert, tls_key;
  std::string tls_client_ca;                 // mutual TLS for devices (docs/security.md)
  std::string tls_client_revoked;            // revoked client certificates' fingerprints
  std::vector<std::string> trusted_proxies;  // whose proxy_client_header is believed
  std::string proxy_client_header;
  int max_messages_per_second = 50;
  int handshake_timeout_s = 10;
  int max_sessions_per_socket = 16, max_sessions_per_client = 32, max_sessions_per_camera = 64;
  int max_pending_sessions = 4;
  // Load (docs/fleet.md).
  int max_agents = 100000, max_viewers = 10000;
  int sync_delay_ms = 400;            // viewers in step: capture-to-display delay (docs/playback-sync.md)
  int busy_lag_ms = 500;              // main loop this late: saturated, new sockets refused with 503
  int peer_queue_bytes = 256 * 1024;  // unsent bytes before a socket's figure updates are dropped
  // NAT traversal (docs/nat.md).
  std::vector<std::string> turn_urls;  // turn:HOST:PORT[?transport=udp|tcp], turns:...
  std::string turn_secret;             // coturn's static-auth-secret
  int session_lifetime_s = 43200;      // sessions end then; their TURN credentials expire then
  std::string stun_listen_host;        // built-in STUN responder (UDP); empty: off
  int stun_listen_port = 0;
  // Fan-out (docs/fanout.md).
  FanoutPolicy fanout;
  std::string fanout_agent;                       // empty: found at start-up (beside the relay, or PATH)
  std::vector<std::string> fanout_ice_addresses;  // the workers' ice-address
};

// The relay's broker connection (control plane and cluster alike), under `client_id`.
MqttOptions mqtt_options(const RelaySettings &settings, std::string client_id);

// "id secret" lines (# comments, blank lines) -> map; or what is wrong, naming the line.
Result<std::map<std::string, std::string>> parse_device_secrets(const std::string &text);

// Reads and parses the device-secrets file (or what is wrong, naming the setting).
Result<std::map<std::string, std::string>> load_device_secrets(const std::string &path);

// The token secret from token-secret or token-secret-file (or what is wrong).
Result<std::string> token_secret(const config::Settings &s);

// Whether `host` (an IP address from --listen) is a loopback address.
bool is_loopback(const std::string &host);

const std::vector<config::Option> &relay_options();

Result<RelaySettings> relay_settings(const config::Settings &s);

struct HostPort {
  std::string host;
  int port = 0;
};
// "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:80" -> host and port ("localhost": 127.0.0.1).
Result<HostPort> parse_listen(const std::string &text);

// Where the web app is: the setting, else the installed copy, else the source
// tree's web/ (running from the build directory).
std::string default_web_root();

}  // namespace sl::relay
