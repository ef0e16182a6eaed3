#include "fanout_policy.hpp"

namespace sl::relay {

bool FanoutPolicy::through_relay(const std::string &camera, int count, int kbps, int uplink_kbps, bool talk) const {
  if (!available) return false;
  auto it = cameras.find(camera);
  switch (it == cameras.end() ? mode : it->second) {
    case FanoutMode::Direct:
      return false;
    case FanoutMode::Relay:
      return count >= 1;
    case FanoutMode::Auto:
      if (talk) return false;
      return count >= viewers || (uplink_kbps > 0 && kbps > 0 && int64_t(count) * kbps > uplink_kbps);
  }
  return false;
}

Result<FanoutMode> parse_fanout_mode(const std::string &text) {
  if (text == "direct") return FanoutMode::Direct;
  if (text == "relay") return FanoutMode::Relay;
  if (text == "auto") return FanoutMode::Auto;
  return fail("must be direct, relay or auto, not '" + text + "'");
}

const char *to_string(FanoutMode mode) {
  switch (mode) {
    case FanoutMode::Direct:
      return "direct";
    case FanoutMode::Relay:
      return "relay";
    case FanoutMode::Auto:
      return "auto";
  }
  return "auto";
}

Result<std::map<std::string, FanoutMode>> parse_fanout_overrides(const std::vector<std::string> &items) {
  std::map<std::string, FanoutMode> out;
  for (const auto &item : items) {
    const auto eq = item.rfind('=');
    if (eq == std::string::npos || eq == 0)
      return fail("'" + item + "' is not CAMERA=MODE (MODE: direct, relay or auto)");
    auto mode = parse_fanout_mode(item.substr(eq + 1));
    if (!mode) return fail("'" + item + "': the mode " + mode.error());
    out[item.substr(0, eq)] = *mode;
  }
  return out;
}

bool is_fanout_device(const std::string &device) { return device.rfind(kFanoutDevicePrefix, 0) == 0; }

}  // namespace sl::relay
