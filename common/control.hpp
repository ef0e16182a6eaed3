// The control plane's protocol, defined once: MQTT topics, the command
// envelope and its parameters, acks, and the camera state an agent publishes.
// The agent runs commands, the relay validates and forwards them with the same
// code, and docs/control.md describes the same for people.
#pragma once

#include "json_io.hpp"
#include "result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sl::control {

inline constexpr size_t kMaxCommandBytes = 16 * 1024;
inline constexpr size_t kMaxStateError = 1024;
inline constexpr int64_t kDefaultTtlMs = 30000;
inline constexpr int64_t kMaxTtlMs = 24LL * 3600 * 1000;

// ---- topics -----------------------------------------------------------------
enum class Topic { Cmd, Ack, State, Snapshot };
std::string topic(const std::string &prefix, const std::string &camera, Topic which);
// "<prefix>/<camera>/<leaf>" -> camera and which; false for anything else.
bool split_topic(const std::string &prefix, const std::string &topic, std::string &camera, Topic &which);
// A prefix is 1-128 characters of A-Z a-z 0-9 . _ - /, not starting or ending with /.
bool valid_prefix(std::string_view prefix);

// ---- parameters, one struct per command type --------------------------------
struct GetState {};
struct ForceKeyframe {};
struct RestartPipeline {};
struct Snapshot {};
struct SetVideo {  // at least one present
  std::optional<int> width, height, fps, bitrate_kbps;
};
struct SetControls {  // V4L2 control name (as v4l2-ctl prints it) -> value
  std::vector<std::pair<std::string, long>> values;
};
using Params = std::variant<GetState, ForceKeyframe, RestartPipeline, Snapshot, SetVideo, SetControls>;

// Every command type, in the order of Params.
inline constexpr const char *kCommandTypes[] = {"get_state", "force_keyframe", "restart_pipeline",
                                                "snapshot",  "set_video",      "set_controls"};

// ---- acks -------------------------------------------------------------------
// Error codes: unknown_type, bad_params, bad_message, expired, busy, failed,
// unsupported (agent); unavailable, timeout, unknown_camera (relay).
struct Ack {
  std::string id;
  std::string type;
  std::string camera;
  bool ok = false;
  std::string result;  // JSON object text, ok only
  std::string code;    // error only
  std::string message;
  std::string param;  // bad_params: the parameter at fault
  int64_t acked_at_ms = 0;
  bool operator==(const Ack &) const = default;
};
Ack ok_ack(std::string result_json);
Ack error_ack(std::string code, std::string message, std::string param = {});
std::string to_json(const Ack &ack);
Result<Ack> parse_ack(std::string_view text);

// ---- commands ---------------------------------------------------------------
struct Command {
  std::string id;  // empty: the sender wants no idempotency (e.g. a Home Assistant button)
  std::string type;
  std::string params = "{}";  // JSON object text
  int64_t issued_at_ms = 0;   // 0: not given, counts from arrival
  int64_t ttl_ms = kDefaultTtlMs;
};
std::string to_json(const Command &command);
// Reads the envelope; an error comes back as the ack to send (with the id when
// one could be read).
Result<Command, Ack> parse_command(std::string_view text);
// Reads the parameters of a known type; unknown_type or bad_params (naming the
// parameter) otherwise.
Result<Params, Ack> parse_params(const std::string &type, const std::string &params_json);

// ---- state (retained) -------------------------------------------------------
struct ControlInfo {
  std::string name;
  long value = 0, min = 0, max = 0, step = 1;
  bool operator==(const ControlInfo &) const = default;
};
// The camera's lower encoding (docs/adaptation.md) while one is live: its size,
// its bitrate, and the viewers on it. In JSON as lower_width, lower_height,
// lower_kbps and lower_viewers, written only while there is one (kbps > 0).
struct LowerEncoding {
  int width = 0, height = 0, kbps = 0, viewers = 0;
  bool operator==(const LowerEncoding &) const = default;
};
// Reads those members (absent: none live) into `out`; what is wrong goes into `r`.
LowerEncoding read_lower_encoding(json::Reader &r);
// Adds them to an object being built (nothing when there is none).
void add_lower_encoding(JsonBuilder *b, const LowerEncoding &lower);

struct CameraState {
  std::string camera;
  bool online = false;
  std::string pipeline;  // playing, restarting, failed, stopped
  std::string error;     // failed: why (the agent's sentence, at most kMaxStateError bytes)
  std::string source, encoder, codec;
  int width = 0, height = 0;
  double fps = 0;  // measured
  int fps_target = 0;
  double bitrate_kbps = 0;      // measured
  int bitrate_target_kbps = 0;  // the configured bitrate (kept for older readers: configured_kbps)
  // The configured bitrate (the ceiling) and what the encoder is asked for now
  // (less while it follows its viewers' paths); optional in JSON, 0 unknown.
  int configured_kbps = 0;
  int target_kbps = 0;
  LowerEncoding lower;
  int viewers = 0;
  int64_t uptime_s = 0;
  int64_t keyframes = 0;
  int64_t restarts = 0;
  std::vector<ControlInfo> controls;
  int64_t updated_at_ms = 0;
  // Set only in a device's own state (PREFIX/DEVICE/state of an agent with
  // several cameras): its cameras, which are all offline when it is.
  std::vector<std::string> cameras;
  bool operator==(const CameraState &) const = default;
};
std::string to_json(const CameraState &state);
Result<CameraState> parse_state(std::string_view text);

// "now" in milliseconds since the Unix epoch.
int64_t wall_clock_ms();

}  // namespace sl::control
