#include "homeassistant.hpp"

#include "control.hpp"
#include "json_io.hpp"

namespace sl::agent {

namespace {
void begin_member_object(JsonBuilder *b, const char *name) {
  json_builder_set_member_name(b, name);
  json_builder_begin_object(b);
}
}  // namespace

std::vector<std::pair<std::string, std::string>> homeassistant_configs(const DiscoveryInput &in) {
  using control::Topic;
  const std::string state = control::topic(in.prefix, in.camera, Topic::State);
  const std::string cmd = control::topic(in.prefix, in.camera, Topic::Cmd);
  // The node is the device ("sightline_DEVICE", what the broker's ACL lets the
  // agent write under); each camera of an agent with several is its own HA
  // device, its objects named after it ("front_fps").
  const std::string device(json::camera_device(in.camera));
  const std::string name_in_device = in.camera.size() > device.size() ? in.camera.substr(device.size() + 1) : "";
  const std::string node = "sightline_" + device;
  const std::string ident = name_in_device.empty() ? node : node + "_" + name_in_device;
  const std::string lead = name_in_device.empty() ? "" : name_in_device + "_";
  std::vector<std::pair<std::string, std::string>> out;

  // What every entity shares: availability from the retained state (the last
  // will turns it offline), and one device per camera.
  auto entity = [&](const std::string &component, const std::string &object, const std::string &name) {
    json::Writer w;
    const char *online = "{{ 'online' if value_json.online else 'offline' }}";
    w.str("name", name).str("unique_id", ident + "_" + object).str("object_id", ident + "_" + object);
    JsonBuilder *b = w.raw();
    if (name_in_device.empty()) {
      w.str("availability_topic", state).str("availability_template", online);
    } else {
      // Available while the camera says so and its device is up (the device's
      // last will is on the device's state topic, not the camera's).
      json_builder_set_member_name(b, "availability");
      json_builder_begin_array(b);
      for (const std::string &t : {control::topic(in.prefix, device, Topic::State), state}) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "topic");
        json_builder_add_string_value(b, t.c_str());
        json_builder_set_member_name(b, "value_template");
        json_builder_add_string_value(b, online);
        json_builder_end_object(b);
      }
      json_builder_end_array(b);
      w.str("availability_mode", "all");
    }
    begin_member_object(b, "device");
    json_builder_set_member_name(b, "identifiers");
    json_builder_begin_array(b);
    json_builder_add_string_value(b, ident.c_str());
    json_builder_end_array(b);
    for (auto [k, v] : {std::pair{"name", in.camera},
                        {"manufacturer", std::string("Sightline")},
                        {"model", in.model},
                        {"sw_version", in.version}}) {
      json_builder_set_member_name(b, k);
      json_builder_add_string_value(b, v.c_str());
    }
    json_builder_end_object(b);
    return std::pair{in.discovery_prefix + "/" + component + "/" + node + "/" + lead + object + "/config",
                     std::move(w)};
  };
  auto sensor = [&](const std::string &object, const std::string &name, const std::string &field,
                    const std::string &unit, const std::string &device_class) {
    auto [topic, w] = entity("sensor", object, name);
    w.str("state_topic", state)
        .str("value_template", "{{ value_json." + field + " | default(0) }}")
        .str("unit_of_measurement", unit)
        .str("state_class", "measurement")
        .opt_str("device_class", device_class);
    out.emplace_back(topic, w.done());
  };
  auto button = [&](const std::string &object, const std::string &name, const std::string &type,
                    const std::string &device_class) {
    auto [topic, w] = entity("button", object, name);
    // No id: each press is a new command (an id would make repeats answer the first ack).
    w.str("command_topic", cmd)
        .str("payload_press", "{\"type\":\"" + type + "\"}")
        .integer("qos", 1)
        .opt_str("device_class", device_class);
    out.emplace_back(topic, w.done());
  };
  sensor("fps", "Frame rate", "fps", "fps", "");
  sensor("bitrate", "Bitrate", "bitrate_kbps", "kbit/s", "data_rate");
  sensor("viewers", "Viewers", "viewers", "viewers", "");
  button("snapshot", "Take snapshot", "snapshot", "");
  button("restart", "Restart pipeline", "restart_pipeline", "restart");
  button("keyframe", "Force keyframe", "force_keyframe", "");
  {
    auto [topic, w] = entity("camera", "snapshot", "Snapshot");
    w.str("topic", control::topic(in.prefix, in.camera, Topic::Snapshot));
    out.emplace_back(topic, w.done());
  }
  return out;
}

}  // namespace sl::agent
