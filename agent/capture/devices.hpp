// The cameras this machine has, as GStreamer's device monitor sees them (V4L2
// and libcamera providers), with what each offers: `sightline-agent --list-devices`.
#pragma once

#include "source_choice.hpp"

#include <string>
#include <vector>

namespace sl::agent {

struct CameraDevice {
  std::string name;    // as the driver names it ("HD Pro Webcam C920", "imx708")
  std::string source;  // what the 'source' setting takes: v4l2:/dev/video0, libcamera:NAME
  std::vector<CameraMode> modes;
};

std::vector<CameraDevice> list_cameras();

// Plain text, one camera a paragraph: name, source setting, modes grouped by
// format (sizes largest first, each with its highest rate).
std::string describe_cameras(const std::vector<CameraDevice> &cameras);

// A [camera NAME] group for each camera, for the agent's config file, the name
// made from the driver's ("HD Pro Webcam C920" -> hd-pro-webcam-c920), unique.
std::string camera_groups(const std::vector<CameraDevice> &cameras);

}  // namespace sl::agent
