// The agent's side of the control plane: one MQTT connection (persistent
// session, last will marking the camera offline), the command table, and the
// camera's retained state, published on connect, on every change and every few
// seconds. Commands run on the main loop against the capture pipeline.
#pragma once

#include "capture/capture_pipeline.hpp"
#include "command_router.hpp"
#include "control.hpp"
#include "mqtt_link.hpp"
#include "viewers/sessions.hpp"
#include "settings.hpp"

#include <memory>
#include <string>

namespace sl::agent {

class ControlPlane {
 public:
  ControlPlane(const AgentSettings &settings, CapturePipeline &pipeline, Sessions &sessions);
  void start();
  // Publishes "offline" (retained) and disconnects: the agent is stopping.
  void stop();

  // The pipeline's own state as main() sees it: playing, restarting, failed.
  void set_pipeline_state(const std::string &state);
  // Publishes the state if something a viewer would notice changed.
  void state_changed();
  control::CameraState state() const;

 private:
  void publish_state();
  void publish_discovery();
  void add_handlers();
  // Runs `check` every 20 ms until it returns true or `timeout_ms` passes, then `done(ok)`.
  void wait_until(std::function<bool()> check, guint timeout_ms, std::function<void(bool)> done);

  const AgentSettings &settings_;
  CapturePipeline &pipeline_;
  Sessions &sessions_;
  std::string pipeline_state_ = "playing";
  gint64 started_us_ = g_get_monotonic_time();
  bool busy_ = false;  // a restart or resize is under way
  std::unique_ptr<MqttLink> link_;
  CommandRouter router_;
  SourceId state_timer_;
  std::string last_key_;  // what state_changed() compares
};

}  // namespace sl::agent
