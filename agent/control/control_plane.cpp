#include "control_plane.hpp"

namespace sl::agent {

using control::Topic;

namespace {
bool several(const AgentSettings &settings) {
  return settings.cameras.size() != 1 || settings.cameras.front().id != settings.id;
}
// The device's state: for a one-camera agent, its camera's (offline only: the
// camera publishes its own when online); for an agent with several, the device
// with its cameras listed.
std::string device_state(const AgentSettings &settings, bool online) {
  control::CameraState s;
  s.camera = settings.id;
  s.online = online;
  s.updated_at_ms = control::wall_clock_ms();
  if (several(settings))
    for (const auto &c : settings.cameras) s.cameras.push_back(c.id);
  return control::to_json(s);
}
}  // namespace

ControlPlane::ControlPlane(const AgentSettings &settings) : settings_(settings) {
  if (settings_.mqtt_url.empty()) return;
  MqttOptions options;
  options.url = settings_.mqtt_url;
  options.user = settings_.mqtt_user;
  options.password = settings_.mqtt_password;
  options.ca_file = settings_.mqtt_ca_file;
  // A persistent session under a fixed name: commands sent while the agent is
  // away wait at the broker and arrive when it is back (their ttl decides).
  options.client_id = "sightline-agent-" + settings_.id;
  options.clean_session = false;
  options.will =
      MqttWill{control::topic(settings_.mqtt_prefix, settings_.id, Topic::State), device_state(settings_, false)};
  options.reconnect_max_s = settings_.reconnect_max_s;
  link_ = std::make_unique<MqttLink>(
      options, MqttLink::Handlers{[this] { on_connected(); },
                                  [this](const std::string &topic, const std::string &payload) {
                                    std::string camera;
                                    Topic which;
                                    if (!control::split_topic(settings_.mqtt_prefix, topic, camera, which) ||
                                        which != Topic::Cmd)
                                      return;
                                    for (const auto &c : cameras_)
                                      if (c->id() == camera) c->handle(payload);
                                  },
                                  nullptr});
}

CameraControl &ControlPlane::add(const CameraSettings &camera, CapturePipeline &pipeline, Sessions &sessions,
                                 CameraKeeper &keeper) {
  cameras_.push_back(
      std::make_unique<CameraControl>(settings_, camera, pipeline, sessions, keeper,
                                      [this](const std::string &topic, const std::string &payload, int qos,
                                             bool retained) { return publish(topic, payload, qos, retained); }));
  if (link_) link_->subscribe(control::topic(settings_.mqtt_prefix, camera.id, Topic::Cmd), 1);
  return *cameras_.back();
}

bool ControlPlane::publish(const std::string &topic, const std::string &payload, int qos, bool retained) {
  return link_ && link_->is_up() && link_->publish(topic, payload, qos, retained);
}

void ControlPlane::on_connected() {
  if (several(settings_))
    link_->publish(control::topic(settings_.mqtt_prefix, settings_.id, Topic::State), device_state(settings_, true), 1,
                   true);
  for (const auto &camera : cameras_) camera->publish_state();
  if (!settings_.homeassistant_discovery) return;
  for (const auto &camera : cameras_)
    for (const auto &[topic, payload] : camera->discovery()) link_->publish(topic, payload, 1, true);
  g_message("mqtt: Home Assistant discovery published under %s/", settings_.homeassistant_prefix.c_str());
}

void ControlPlane::start() {
  if (!link_) return;
  link_->start();
  state_timer_.reset(every_ms(guint(settings_.state_interval_s) * 1000, [this] {
    for (const auto &camera : cameras_) camera->publish_state();
    return true;
  }));
}

void ControlPlane::stop() {
  state_timer_.reset();
  if (!link_) return;
  // Each camera's own offline state; the device's (what the will would have
  // said) goes with the disconnect.
  for (const auto &camera : cameras_) {
    if (camera->id() == settings_.id) continue;
    const auto [topic, payload] = camera->offline();
    link_->publish(topic, payload, 1, true);
  }
  link_->stop(control::topic(settings_.mqtt_prefix, settings_.id, Topic::State), device_state(settings_, false));
}

}  // namespace sl::agent
