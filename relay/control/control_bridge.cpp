#include "control_bridge.hpp"

#include "main_context.hpp"

#include <glib.h>

namespace sl::relay {

using control::Ack;
using control::Topic;

namespace {
Ack relay_error(const std::string &code, const std::string &message, const std::string &camera, const std::string &type,
                const std::string &param = {}) {
  Ack a = control::error_ack(code, message, param);
  a.camera = camera;
  a.type = type;
  a.acked_at_ms = control::wall_clock_ms();
  return a;
}
}  // namespace

ControlBridge::ControlBridge(const RelaySettings &settings, SessionTable &table, Metrics &metrics)
    : settings_(settings), table_(table), metrics_(metrics) {
  // Command ids unique across relays and restarts: a random run prefix and a counter.
  char run[9];
  g_snprintf(run, sizeof run, "%08x", g_random_int());
  id_prefix_ = std::string("r") + run + "-";
  if (settings_.mqtt_url.empty()) return;
  link_ = std::make_unique<MqttLink>(
      mqtt_options(settings_, "sightline-relay-" + std::string(run)),
      MqttLink::Handlers{nullptr,
                         [this](const std::string &topic, const std::string &payload) { on_message(topic, payload); },
                         nullptr});
  // Cameras are PREFIX/DEVICE/LEAF, or PREFIX/DEVICE/NAME/LEAF on an agent with several.
  for (const char *leaf : {"state", "ack", "snapshot"}) {
    link_->subscribe(settings_.mqtt_prefix + "/+/" + leaf, 1);
    link_->subscribe(settings_.mqtt_prefix + "/+/+/" + leaf, 1);
  }
}

void ControlBridge::start(std::function<void(const Actions &)> apply) {
  apply_ = std::move(apply);
  if (link_) link_->start();
}

const std::string *ControlBridge::latest_snapshot(const std::string &camera) const {
  auto it = snapshots_.find(camera);
  return it == snapshots_.end() ? nullptr : &it->second.jpeg;
}

void ControlBridge::when_snapshot(const std::string &camera, int64_t since_ms, guint timeout_ms,
                                  std::function<void()> ready) {
  auto it = snapshots_.find(camera);
  if (it != snapshots_.end() && it->second.received_ms >= since_ms) {
    ready();
    return;
  }
  // Whichever comes first, the picture or the deadline, runs `ready` once.
  auto waiter = std::make_unique<Waiter>();
  waiter->ready = std::move(ready);
  Waiter *key = waiter.get();
  waiter->deadline.reset(after_ms(timeout_ms, [this, camera, key] {
    auto range = snapshot_waiters_.equal_range(camera);
    for (auto w = range.first; w != range.second; ++w)
      if (w->second.get() == key) {
        auto late = std::move(w->second);
        snapshot_waiters_.erase(w);
        late->deadline.release();  // this very timeout, ending now
        late->ready();
        return;
      }
  }));
  snapshot_waiters_.emplace(camera, std::move(waiter));
}

void ControlBridge::on_message(const std::string &topic, const std::string &payload) {
  std::string camera;
  Topic which;
  if (!control::split_topic(settings_.mqtt_prefix, topic, camera, which)) return;
  switch (which) {
    case Topic::State:
      if (payload.empty()) return;  // a cleared retained message
      if (auto state = control::parse_state(payload); state && state->camera == camera)
        apply_(table_.camera_state(*state));
      else
        g_warning("mqtt: ignoring state on %s: %s", topic.c_str(), state ? "camera id differs" : state.error().c_str());
      break;
    case Topic::Ack:
      if (auto ack = control::parse_ack(payload)) {
        auto it = pending_.find(ack->id);
        if (it != pending_.end() && it->second->camera == camera) finish(ack->id, *ack, 200);
      } else {
        g_warning("mqtt: ignoring ack on %s: %s", topic.c_str(), ack.error().c_str());
      }
      break;
    case Topic::Snapshot: {
      snapshots_[camera] = Picture{payload, control::wall_clock_ms()};
      auto range = snapshot_waiters_.equal_range(camera);
      std::vector<std::unique_ptr<Waiter>> ready;  // their deadlines go with them
      for (auto w = range.first; w != range.second; ++w) ready.push_back(std::move(w->second));
      snapshot_waiters_.erase(range.first, range.second);
      for (auto &r : ready) r->ready();
      break;
    }
    case Topic::Cmd:
      break;
  }
}

void ControlBridge::send(const std::string &camera, const std::string &type, const std::string &params_json,
                         int64_t ttl_ms, Done done) {
  // Checked here with the agent's own code, so a bad request never reaches the camera.
  if (auto parsed = control::parse_params(type, params_json); !parsed) {
    Ack a = parsed.error();
    a.camera = camera;
    a.type = type;
    done(a, 400);
    return;
  }
  if (!table_.has_camera(camera)) {
    done(relay_error("unknown_camera", "there is no camera '" + camera + "'", camera, type), 404);
    return;
  }
  if (!link_ || !link_->is_up()) {
    done(relay_error("unavailable",
                     link_ ? "control plane unavailable: the MQTT broker is unreachable"
                           : "control plane unavailable: this relay has no MQTT broker configured",
                     camera, type),
         503);
    return;
  }
  const int64_t timeout_ms = int64_t(settings_.command_timeout_s) * 1000;
  control::Command command{id_prefix_ + std::to_string(++next_id_), type, params_json, control::wall_clock_ms(),
                           ttl_ms > 0 ? ttl_ms : timeout_ms};
  if (!link_->publish(control::topic(settings_.mqtt_prefix, camera, Topic::Cmd), control::to_json(command), 1, false)) {
    done(relay_error("unavailable", "control plane unavailable: publishing failed", camera, type), 503);
    return;
  }
  auto pending = std::make_unique<Pending>();
  pending->camera = camera;
  pending->done = std::move(done);
  pending->sent_us = g_get_monotonic_time();
  const std::string id = command.id;
  // Wait as long as the command may still run, and no longer than the relay's limit.
  pending->deadline.reset(after_ms(guint(std::min(command.ttl_ms, timeout_ms)), [this, id, camera, type] {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    it->second->deadline.release();
    Ack a = relay_error("timeout", "no answer from camera '" + camera + "' in time", camera, type);
    a.id = id;
    finish(id, a, 504);
  }));
  pending_[id] = std::move(pending);
}

void ControlBridge::finish(const std::string &id, const Ack &ack, int status) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  auto pending = std::move(it->second);
  pending_.erase(it);
  pending->deadline.reset();
  if (status == 200) metrics_.command_rtt.observe(double(g_get_monotonic_time() - pending->sent_us) / G_USEC_PER_SEC);
  pending->done(ack, status);
}

}  // namespace sl::relay
