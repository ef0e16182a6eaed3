#include "control.hpp"

#include <tuple>

#include "gobj.hpp"
#include "json_io.hpp"

#include <glib.h>

#include <algorithm>
#include <iterator>

namespace sl::control {
namespace {

using json::Reader;
using json::Writer;

constexpr const char *kLeaves[] = {"cmd", "ack", "state", "snapshot"};
constexpr size_t kMaxControls = 64;
constexpr int64_t kMaxEpochMs = int64_t(1) << 52;

// An optional whole-number member.
std::optional<int> opt_int(Reader &r, JsonObject *obj, const char *name, long min, long max) {
  if (!json_object_has_member(obj, name)) return std::nullopt;
  const long v = r.integer(name, min, max);
  return r.ok() ? std::optional<int>(int(v)) : std::nullopt;
}

// "field width: must be ..." -> "width"
std::string field_of(const std::string &error) {
  const std::string lead = "field ";
  if (error.rfind(lead, 0) != 0) return {};
  const size_t colon = error.find(':');
  return colon == std::string::npos ? std::string() : error.substr(lead.size(), colon - lead.size());
}

Ack bad_params(const std::string &type, const std::string &error) {
  return error_ack("bad_params", type + ": " + error, field_of(error));
}

bool valid_control_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return g_ascii_islower(c) || g_ascii_isdigit(c) || c == '_'; });
}

}  // namespace

int64_t wall_clock_ms() { return g_get_real_time() / 1000; }

std::string topic(const std::string &prefix, const std::string &camera, Topic which) {
  return prefix + "/" + camera + "/" + kLeaves[int(which)];
}

bool split_topic(const std::string &prefix, const std::string &t, std::string &camera, Topic &which) {
  if (t.size() <= prefix.size() + 1 || t.compare(0, prefix.size(), prefix) != 0 || t[prefix.size()] != '/')
    return false;
  // PREFIX/CAMERA/LEAF, where a camera id may span two levels (DEVICE/NAME).
  const std::string rest = t.substr(prefix.size() + 1);
  const size_t slash = rest.rfind('/');
  if (slash == std::string::npos) return false;
  camera = rest.substr(0, slash);
  const std::string leaf = rest.substr(slash + 1);
  const auto it = std::find_if(std::begin(kLeaves), std::end(kLeaves), [&](const char *l) { return leaf == l; });
  if (it == std::end(kLeaves) || !json::valid_camera_id(camera)) return false;
  which = Topic(it - std::begin(kLeaves));
  return true;
}

bool valid_prefix(std::string_view p) {
  if (p.empty() || p.size() > 128 || p.front() == '/' || p.back() == '/') return false;
  return std::all_of(p.begin(), p.end(),
                     [](char c) { return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-' || c == '/'; });
}

// ---- acks -------------------------------------------------------------------

Ack ok_ack(std::string result_json) {
  Ack a;
  a.ok = true;
  a.result = std::move(result_json);
  return a;
}

Ack error_ack(std::string code, std::string message, std::string param) {
  Ack a;
  a.code = std::move(code);
  a.message = std::move(message);
  a.param = std::move(param);
  return a;
}

std::string to_json(const Ack &a) {
  Writer w;
  w.opt_str("id", a.id).opt_str("type", a.type).opt_str("camera", a.camera).str("status", a.ok ? "ok" : "error");
  if (a.ok)
    json::add_object_text(w.raw(), "result", a.result);
  else
    w.str("code", a.code).str("message", a.message).opt_str("param", a.param);
  if (a.acked_at_ms) w.integer("acked_at", long(a.acked_at_ms));
  return w.done();
}

Result<Ack> parse_ack(std::string_view text) {
  auto root = json::parse_object(text);
  if (!root) return fail(root.error());
  JsonObject *obj = json_node_get_object(root->get());
  Reader r(obj);
  Ack a;
  a.id = r.id("id", false);
  a.type = r.str("type", 64, false);
  a.camera = r.camera("camera", false);
  const std::string status = r.str("status", 16);
  if (r.ok() && status != "ok" && status != "error") r.fail("status", "must be ok or error");
  a.ok = status == "ok";
  if (a.ok) {
    JsonNode *result = json_object_get_member(obj, "result");
    if (result && !JSON_NODE_HOLDS_OBJECT(result)) r.fail("result", "must be an object");
    const auto written = result ? json::node_text(result) : std::optional<std::string>("{}");
    if (!written) r.fail("result", "has a number out of range");
    a.result = written.value_or("{}");
  } else {
    a.code = r.str("code", 64);
    a.message = r.str("message", 1024);
    a.param = r.str("param", 64, false);
  }
  if (json_object_has_member(obj, "acked_at")) a.acked_at_ms = r.integer("acked_at", 0, kMaxEpochMs);
  if (!r.ok()) return fail(r.error());
  return a;
}

// ---- commands ---------------------------------------------------------------

std::string to_json(const Command &c) {
  Writer w;
  w.opt_str("id", c.id).str("type", c.type);
  json::add_object_text(w.raw(), "params", c.params);
  if (c.issued_at_ms) w.integer("issued_at", long(c.issued_at_ms));
  w.integer("ttl_ms", long(c.ttl_ms));
  return w.done();
}

Result<Command, Ack> parse_command(std::string_view text) {
  if (text.size() > kMaxCommandBytes)
    return fail(error_ack("bad_message", "command is larger than " + std::to_string(kMaxCommandBytes) + " bytes"));
  auto root = json::parse_object(text);
  if (!root) return fail(error_ack("bad_message", root.error()));
  JsonObject *obj = json_node_get_object(root->get());
  Command c;
  Reader r(obj);
  c.id = r.id("id", false);
  if (!r.ok()) return fail(error_ack("bad_message", r.error(), "id"));
  c.type = r.str("type", 64);
  JsonNode *params = json_object_get_member(obj, "params");
  if (params && !JSON_NODE_HOLDS_NULL(params)) {
    if (!JSON_NODE_HOLDS_OBJECT(params))
      r.fail("params", "must be an object");
    else if (auto written = json::node_text(params))
      c.params = *written;
    else
      r.fail("params", "has a number out of range");
  }
  if (json_object_has_member(obj, "issued_at")) c.issued_at_ms = r.integer("issued_at", 0, kMaxEpochMs);
  if (json_object_has_member(obj, "ttl_ms")) c.ttl_ms = r.integer("ttl_ms", 1, kMaxTtlMs);
  if (!r.ok()) {
    Ack a = error_ack("bad_message", r.error(), field_of(r.error()));
    a.id = c.id;
    a.type = c.type;
    return fail(a);
  }
  return c;
}

Result<Params, Ack> parse_params(const std::string &type, const std::string &params_json) {
  auto root = json::parse_object(params_json);
  if (!root) return fail(error_ack("bad_params", type + ": params " + root.error(), "params"));
  JsonObject *obj = json_node_get_object(root->get());
  Reader r(obj);
  auto no_params = [&](auto value) -> Result<Params, Ack> {
    if (json_object_get_size(obj) != 0) {
      GList *names = json_object_get_members(obj);
      std::string first = static_cast<const char *>(names->data);
      g_list_free(names);
      return fail(error_ack("bad_params", type + ": takes no parameters, got '" + first + "'", first));
    }
    return Params(value);
  };
  if (type == "get_state") return no_params(GetState{});
  if (type == "force_keyframe") return no_params(ForceKeyframe{});
  if (type == "restart_pipeline") return no_params(RestartPipeline{});
  if (type == "snapshot") return no_params(Snapshot{});
  if (type == "set_video") {
    SetVideo v;
    v.width = opt_int(r, obj, "width", 16, 7680);
    v.height = opt_int(r, obj, "height", 16, 4320);
    v.fps = opt_int(r, obj, "fps", 1, 120);
    v.bitrate_kbps = opt_int(r, obj, "bitrate", 50, 50000);
    if (!r.ok()) return fail(bad_params(type, r.error()));
    GList *names = json_object_get_members(obj);
    for (GList *n = names; n; n = n->next) {
      const std::string name = static_cast<const char *>(n->data);
      if (name != "width" && name != "height" && name != "fps" && name != "bitrate") {
        g_list_free(names);
        return fail(error_ack("bad_params", type + ": unknown parameter '" + name + "'", name));
      }
    }
    g_list_free(names);
    if (!v.width && !v.height && !v.fps && !v.bitrate_kbps)
      return fail(error_ack("bad_params", type + ": give at least one of width, height, fps, bitrate", "params"));
    if (v.width.has_value() != v.height.has_value())
      return fail(error_ack("bad_params", type + ": width and height go together", v.width ? "height" : "width"));
    if (v.width && (*v.width % 2 || *v.height % 2))
      return fail(error_ack("bad_params", type + ": width and height must be even", *v.width % 2 ? "width" : "height"));
    return Params(v);
  }
  if (type == "set_controls") {
    SetControls s;
    GList *names = json_object_get_members(obj);
    for (GList *n = names; n && r.ok(); n = n->next) {
      const char *name = static_cast<const char *>(n->data);
      if (!valid_control_name(name)) {
        g_list_free(names);
        return fail(error_ack("bad_params", type + ": '" + name + "' is not a control name (a-z 0-9 _)", name));
      }
      const long value = r.integer(name, -(1L << 31), (1L << 31) - 1);
      if (r.ok()) s.values.emplace_back(name, value);
    }
    g_list_free(names);
    if (!r.ok()) return fail(bad_params(type, r.error()));
    if (s.values.empty()) return fail(error_ack("bad_params", type + ": give at least one control", "params"));
    if (s.values.size() > kMaxControls) return fail(error_ack("bad_params", type + ": too many controls", "params"));
    return Params(s);
  }
  return fail(error_ack("unknown_type", "unknown command type '" + type +
                                            "'; known: get_state, set_video, "
                                            "force_keyframe, restart_pipeline, snapshot, set_controls"));
}

// ---- state ------------------------------------------------------------------

LowerEncoding read_lower_encoding(json::Reader &r) {
  LowerEncoding lower;
  for (auto [name, field, max] : {std::tuple{"lower_width", &lower.width, 8192L},
                                  {"lower_height", &lower.height, 8192L},
                                  {"lower_kbps", &lower.kbps, 10'000'000L},
                                  {"lower_viewers", &lower.viewers, 1L << 20}})
    if (json_object_has_member(r.object(), name)) *field = int(r.integer(name, 0, max));
  // No bitrate: none live, whatever else is said (and what is read writes back the same).
  return lower.kbps > 0 ? lower : LowerEncoding{};
}

void add_lower_encoding(JsonBuilder *b, const LowerEncoding &lower) {
  if (lower.kbps <= 0) return;
  for (auto [name, value] : {std::pair{"lower_width", lower.width},
                             {"lower_height", lower.height},
                             {"lower_kbps", lower.kbps},
                             {"lower_viewers", lower.viewers}}) {
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
  }
}

std::string to_json(const CameraState &s) {
  Writer w;
  w.str("camera", s.camera).boolean("online", s.online).opt_strings("cameras", s.cameras);
  if (!s.online || !s.cameras.empty()) {
    if (s.updated_at_ms) w.integer("updated_at", long(s.updated_at_ms));
    return w.done();
  }
  w.str("pipeline", s.pipeline)
      .opt_str("error", json::within(s.error, kMaxStateError))
      .str("source", s.source)
      .str("encoder", s.encoder)
      .str("codec", s.codec)
      .integer("width", s.width)
      .integer("height", s.height)
      .number("fps", s.fps)
      .integer("fps_target", s.fps_target)
      .number("bitrate_kbps", s.bitrate_kbps)
      .integer("bitrate_target_kbps", s.bitrate_target_kbps)
      .integer("configured_kbps", s.configured_kbps)
      .integer("target_kbps", s.target_kbps);
  add_lower_encoding(w.raw(), s.lower);
  w.integer("viewers", s.viewers)
      .integer("uptime_s", long(s.uptime_s))
      .integer("keyframes", long(s.keyframes))
      .integer("restarts", long(s.restarts));
  JsonBuilder *b = w.raw();
  json_builder_set_member_name(b, "controls");
  json_builder_begin_array(b);
  for (const auto &c : s.controls) {
    json_builder_begin_object(b);
    for (auto [k, v] : {std::pair{"value", c.value}, {"min", c.min}, {"max", c.max}, {"step", c.step}}) {
      json_builder_set_member_name(b, k);
      json_builder_add_int_value(b, v);
    }
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, c.name.c_str());
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  w.integer("updated_at", long(s.updated_at_ms));
  return w.done();
}

Result<CameraState> parse_state(std::string_view text) {
  if (text.size() > kMaxCommandBytes)
    return fail("state is larger than " + std::to_string(kMaxCommandBytes) + " bytes");
  auto root = json::parse_object(text);
  if (!root) return fail(root.error());
  JsonObject *obj = json_node_get_object(root->get());
  Reader r(obj);
  CameraState s;
  s.camera = r.camera("camera");
  s.online = r.boolean("online");
  if (json_object_has_member(obj, "updated_at")) s.updated_at_ms = r.integer("updated_at", 0, kMaxEpochMs);
  if (json_object_has_member(obj, "cameras")) {  // a device's state: nothing more
    s.cameras = r.strings("cameras", 256, json::kMaxCameraIdLength);
    for (const auto &c : s.cameras)
      if (r.ok() && (!json::valid_camera_id(c) || json::camera_device(c) != s.camera))
        r.fail("cameras", "'" + c + "' is not a camera of device '" + s.camera + "'");
    if (r.ok() && s.cameras.empty()) r.fail("cameras", "must not be empty");
    if (!r.ok()) return fail(r.error());
    return s;
  }
  if (r.ok() && s.online) {
    s.pipeline = r.str("pipeline", 32);
    s.error = r.str("error", kMaxStateError, false);
    s.source = r.str("source", 256);
    s.encoder = r.str("encoder", 64);
    s.codec = r.str("codec", 16);
    s.width = int(r.integer("width", 0, 8192));
    s.height = int(r.integer("height", 0, 8192));
    s.fps = r.number("fps", 0, 1000);
    s.fps_target = int(r.integer("fps_target", 0, 1000));
    s.bitrate_kbps = r.number("bitrate_kbps", 0, 1e7);
    s.bitrate_target_kbps = int(r.integer("bitrate_target_kbps", 0, 1000000));
    // Absent from an older agent's state: 0, unknown.
    for (auto [name, field] : {std::pair{"configured_kbps", &s.configured_kbps}, {"target_kbps", &s.target_kbps}})
      if (json_object_has_member(obj, name)) *field = int(r.integer(name, 0, 10'000'000));
    s.lower = read_lower_encoding(r);
    s.viewers = int(r.integer("viewers", 0, 1 << 20));
    s.uptime_s = r.integer("uptime_s", 0, kMaxEpochMs);
    s.keyframes = r.integer("keyframes", 0, kMaxEpochMs);
    s.restarts = r.integer("restarts", 0, kMaxEpochMs);
    if (json_object_has_member(obj, "controls"))
      r.objects("controls", kMaxControls, [&](Reader &c) {
        ControlInfo info;
        info.name = r.ok() ? c.str("name", 64) : "";
        info.value = c.integer("value", -(1L << 31), (1L << 31) - 1);
        info.min = c.integer("min", -(1L << 31), (1L << 31) - 1);
        info.max = c.integer("max", -(1L << 31), (1L << 31) - 1);
        info.step = c.integer("step", 0, (1L << 31) - 1);
        s.controls.push_back(info);
      });
  }
  if (!r.ok()) return fail(r.error());
  return s;
}

}  // namespace sl::control
