// The agent's side of the control plane: one MQTT connection (persistent
// session, last will marking the camera offline), the command table, and the
// camera's retained state, published on connect, on every change and every few
// seconds. Commands run on the main loop against the capture pipeline.
#pragma once

#include "camera_keeper.hpp"
#include "capture/capture_pipeline.hpp"
#include "command_router.hpp"
#include "control.hpp"
#include "mqtt_link.hpp"
#include "settings.hpp"
#include "viewers/sessions.hpp"

#include <memory>
#include <string>

namespace sl::agent {

class ControlPlane {
 public:
  ControlPlane(const AgentSettings &settings, CapturePipeline &pipeline, Sessions &sessions, CameraKeeper &camera);
  void start();
  // Publishes "offline" (retained) and disconnects: the agent is stopping.
  void stop();

  // Publishes the state if something a viewer would notice changed.
  void state_changed();
  control::CameraState state() const;

 private:
  void publish_state();
  void publish_discovery();
  // The commands, one handler each.
  using Reply = CommandRouter::Reply;
  void add_handlers();
  void force_keyframe(Reply reply);
  void restart(Reply reply);
  void set_video(const control::SetVideo &params, Reply reply);
  void snapshot(Reply reply);
  void set_camera_controls(const control::SetControls &params, Reply reply);

  const AgentSettings &settings_;
  CapturePipeline &pipeline_;
  Sessions &sessions_;
  CameraKeeper &camera_;
  gint64 started_us_ = g_get_monotonic_time();
  bool busy_ = false;  // a restart or resize is under way
  std::unique_ptr<MqttLink> link_;
  CommandRouter router_;
  SourceId state_timer_;
  std::string last_key_;  // what state_changed() compares
};

}  // namespace sl::agent
