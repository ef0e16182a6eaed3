// The relay's settings: the option table (file keys = flags) and checked values.
#pragma once

#include "config.hpp"
#include "protocol.hpp"

#include <string>
#include <variant>
#include <vector>

namespace sl::relay {

struct RelaySettings {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  std::string web_root;
  std::vector<proto::IceServer> ice_servers;
  int heartbeat_interval_s = 5;
  int session_timeout_s = 10;
  int max_message_size = 65536;
  // Control plane (MQTT); no url = commands answer 'unavailable'.
  std::string mqtt_url;
  std::string mqtt_user, mqtt_password, mqtt_ca_file;
  std::string mqtt_prefix = "sightline";
  int command_timeout_s = 10;
};

const std::vector<config::Option> &relay_options();

std::variant<RelaySettings, std::string> relay_settings(const config::Settings &s);

// "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:80" -> host and port.
bool parse_listen(const std::string &text, std::string &host, int &port);

// Where the web app is: the setting, else the installed copy, else the source
// tree's web/ (running from the build directory).
std::string default_web_root();

}  // namespace sl::relay
