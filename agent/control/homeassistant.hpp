// Home Assistant MQTT discovery: the retained config messages that make Home
// Assistant show a camera's availability, fps and bitrate sensors, buttons for
// snapshot / restart / keyframe, and its snapshots as a camera image.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sl::agent {

struct DiscoveryInput {
  std::string discovery_prefix = "homeassistant";
  std::string prefix = "sightline";  // our topics
  std::string camera;
  std::string version;
  std::string model;  // e.g. "test via x264enc"
};

// (topic, JSON payload) pairs, each to be published retained.
std::vector<std::pair<std::string, std::string>> homeassistant_configs(const DiscoveryInput &in);

}  // namespace sl::agent
