// A V4L2 camera's controls (brightness, contrast, exposure...), read and set on
// the open device, by the names v4l2-ctl prints (lower case, '_' for spaces).
#pragma once

#include "control.hpp"

#include <string>
#include <utility>
#include <vector>

namespace sl::agent {

// "Exposure Time, Absolute" -> "exposure_time_absolute", as v4l2-ctl names it.
std::string control_name(const std::string &v4l2_name);

// The integer, boolean and menu controls of the device open on `fd`.
std::vector<control::ControlInfo> list_controls(int fd);

// Sets each control; stops at the first problem and says which control and why
// (`unknown` true when the camera has no control of that name).
struct ControlError {
  std::string name;
  std::string message;
  bool unknown = false;
};
std::vector<ControlError> set_controls(int fd, const std::vector<std::pair<std::string, long>> &values);

}  // namespace sl::agent
