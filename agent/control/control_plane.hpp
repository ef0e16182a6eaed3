// The agent's side of the control plane: one MQTT connection for all its
// cameras (a persistent session; its last will marks the device offline), each
// camera's commands handed to its CameraControl, and every camera's retained
// state published on connect, on every change and every few seconds.
//
// Topics: PREFIX/CAMERA/{cmd,ack,state,snapshot}, where CAMERA is the agent's id
// for its only camera, or ID/NAME for a [camera NAME] group. The will goes to
// PREFIX/ID/state: for a one-camera agent that is its camera's state; for an
// agent with several, the relay (and Home Assistant's availability) read it
// as "every camera of this device is offline".
#pragma once

#include "camera_control.hpp"
#include "main_context.hpp"
#include "mqtt_link.hpp"
#include "settings.hpp"

#include <memory>
#include <string>
#include <vector>

namespace sl::agent {

class ControlPlane {
 public:
  explicit ControlPlane(const AgentSettings &settings);
  ControlPlane(const ControlPlane &) = delete;
  ControlPlane &operator=(const ControlPlane &) = delete;

  // A camera's control; before start().
  CameraControl &add(const CameraSettings &camera, CapturePipeline &pipeline, Sessions &sessions, CameraKeeper &keeper);
  void start();
  // Publishes every camera "offline" (retained) and disconnects: the agent is stopping.
  void stop();

 private:
  bool publish(const std::string &topic, const std::string &payload, int qos, bool retained);
  void on_connected();

  const AgentSettings &settings_;
  std::vector<std::unique_ptr<CameraControl>> cameras_;
  std::unique_ptr<MqttLink> link_;
  SourceId state_timer_;
};

}  // namespace sl::agent
