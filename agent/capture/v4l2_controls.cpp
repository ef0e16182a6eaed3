#include "v4l2_controls.hpp"

#include <glib.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

namespace sl::agent {

std::string control_name(const std::string &v4l2_name) {
  std::string out;
  for (char c : v4l2_name) {
    if (g_ascii_isalnum(c))
      out += g_ascii_tolower(c);
    else if (!out.empty() && out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

namespace {
template <typename F>
void each_control(int fd, F &&fn) {
  v4l2_queryctrl q{};
  q.id = V4L2_CTRL_FLAG_NEXT_CTRL;
  while (ioctl(fd, VIDIOC_QUERYCTRL, &q) == 0) {
    const bool usable = !(q.flags & (V4L2_CTRL_FLAG_DISABLED | V4L2_CTRL_FLAG_READ_ONLY)) &&
                        (q.type == V4L2_CTRL_TYPE_INTEGER || q.type == V4L2_CTRL_TYPE_BOOLEAN ||
                         q.type == V4L2_CTRL_TYPE_MENU || q.type == V4L2_CTRL_TYPE_INTEGER_MENU);
    if (usable) fn(q);
    q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
  }
}
}  // namespace

std::vector<control::ControlInfo> list_controls(int fd) {
  std::vector<control::ControlInfo> out;
  each_control(fd, [&](const v4l2_queryctrl &q) {
    v4l2_control c{};
    c.id = q.id;
    if (ioctl(fd, VIDIOC_G_CTRL, &c) != 0) return;
    out.push_back({control_name(reinterpret_cast<const char *>(q.name)), c.value, q.minimum, q.maximum, q.step});
  });
  return out;
}

std::vector<ControlError> set_controls(int fd, const std::vector<std::pair<std::string, long>> &values) {
  std::vector<ControlError> errors;
  for (const auto &[name, value] : values) {
    bool found = false;
    each_control(fd, [&, name = name, value = value](const v4l2_queryctrl &q) {
      if (found || control_name(reinterpret_cast<const char *>(q.name)) != name) return;
      found = true;
      if (value < q.minimum || value > q.maximum) {
        errors.push_back({name, "must be between " + std::to_string(q.minimum) + " and " + std::to_string(q.maximum)});
        return;
      }
      v4l2_control c{};
      c.id = q.id;
      c.value = int(value);
      if (ioctl(fd, VIDIOC_S_CTRL, &c) != 0) errors.push_back({name, std::strerror(errno)});
    });
    if (!found) errors.push_back({name, "this camera has no control '" + name + "'", true});
    if (!errors.empty()) break;
  }
  return errors;
}

}  // namespace sl::agent
