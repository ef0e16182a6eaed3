// One camera's side of the control plane: its command table (the handlers act
// on its pipeline and sessions) and its state. The agent's one MQTT connection
// (control_plane.hpp) brings its commands and carries what it publishes.
#pragma once

#include "camera_keeper.hpp"
#include "capture/capture_pipeline.hpp"
#include "command_router.hpp"
#include "control.hpp"
#include "settings.hpp"
#include "viewers/sessions.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sl::agent {

class CameraControl {
 public:
  // Sends a message to the broker; false when it cannot now (not connected).
  using Publish = std::function<bool(const std::string &topic, const std::string &payload, int qos, bool retained)>;

  CameraControl(const AgentSettings &agent, const CameraSettings &camera, CapturePipeline &pipeline, Sessions &sessions,
                CameraKeeper &keeper, Publish publish);
  CameraControl(const CameraControl &) = delete;
  CameraControl &operator=(const CameraControl &) = delete;

  const std::string &id() const { return camera_.id; }
  // A command for this camera (the payload of its cmd topic).
  void handle(const std::string &payload) { router_.handle(payload); }
  // Publishes the state if something a viewer would notice changed.
  void state_changed();
  void publish_state();
  control::CameraState state() const;
  // The camera's retained "offline" state (the agent is stopping).
  std::pair<std::string, std::string> offline() const;
  // Home Assistant discovery configs, topic and payload.
  std::vector<std::pair<std::string, std::string>> discovery() const;

 private:
  // The commands, one handler each.
  using Reply = CommandRouter::Reply;
  void add_handlers();
  void force_keyframe(Reply reply);
  void restart(Reply reply);
  void set_video(const control::SetVideo &params, Reply reply);
  void snapshot(Reply reply);
  void set_camera_controls(const control::SetControls &params, Reply reply);
  std::string state_key(const control::CameraState &s) const;
  void publish(const control::CameraState &s);

  const AgentSettings &agent_;
  const CameraSettings &camera_;
  CapturePipeline &pipeline_;
  Sessions &sessions_;
  CameraKeeper &keeper_;
  Publish publish_;
  gint64 started_us_ = g_get_monotonic_time();
  bool busy_ = false;  // a restart or resize is under way
  CommandRouter router_;
  std::string last_key_;  // what state_changed() compares
};

}  // namespace sl::agent
