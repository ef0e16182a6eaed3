// When a camera's viewers are served by the relay rather than by the camera
// itself (docs/fanout.md). In `direct` mode the camera's agent sends one stream
// per viewer; in `relay` mode it sends one stream to a fan-out worker the relay
// starts, and the worker forwards it to every viewer; `auto` (the default) goes
// to the relay from `viewers` viewers on, or as soon as one stream per viewer
// would not fit the camera's uplink budget (the agent's `uplink-kbps`).
#pragma once

#include "result.hpp"

#include <map>
#include <string>
#include <vector>

namespace sl::relay {

enum class FanoutMode { Direct, Relay, Auto };

struct FanoutPolicy {
  FanoutMode mode = FanoutMode::Auto;
  int viewers = 3;                            // auto: relay from this many viewers on
  std::map<std::string, FanoutMode> cameras;  // per-camera overrides of `mode`
  bool available = true;                      // a worker can be started at all
  int64_t idle_ms = 10000;                    // a worker with no viewer for this long is stopped
  int64_t start_timeout_ms = 15000;           // a worker not serving by then is given up
  int64_t retry_after_ms = 30000;             // after a worker failed: direct for this long

  // Whether `camera` with `viewers` viewers (the one asking included), sent at
  // `kbps` each (0: unknown) from an uplink of `uplink_kbps` (0: not given),
  // should be watched through the relay. A camera with a speaker (`talk`) stays
  // direct in auto mode: the workers pass the camera's picture and sound on, not
  // an operator's voice back to it (docs/fanout.md).
  bool through_relay(const std::string &camera, int viewers, int kbps, int uplink_kbps, bool talk = false) const;
};

// "direct" | "relay" | "auto".
Result<FanoutMode> parse_fanout_mode(const std::string &text);
const char *to_string(FanoutMode mode);
// "CAMERA=MODE" settings (fanout-camera) -> overrides, or what is wrong.
Result<std::map<std::string, FanoutMode>> parse_fanout_overrides(const std::vector<std::string> &items);

// The device ids of fan-out workers: never a real device's (docs/fanout.md).
inline constexpr const char *kFanoutDevicePrefix = "_fanout.";
bool is_fanout_device(const std::string &device);

}  // namespace sl::relay
