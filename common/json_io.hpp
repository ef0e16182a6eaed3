// Reading and writing JSON objects with json-glib, with the checks every
// message needs: present, right type, within bounds. The first problem found
// is kept as "field NAME: what is wrong", which is what a peer gets back.
#pragma once

#include "gobj.hpp"
#include "result.hpp"

#include <json-glib/json-glib.h>

#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sl::json {

inline constexpr size_t kMaxIdLength = 64;

// Ids (agents, sessions, refs, command ids): 1..64 of [A-Za-z0-9._-].
bool valid_id(std::string_view id);

// Camera ids: an agent's id (its only or first camera), or the agent's id, a
// slash and the camera's name ("garden-pi/front"), both parts ids: a device
// can only ever speak for cameras under its own id, and the slash maps onto
// MQTT topic levels (PREFIX/garden-pi/front/state).
inline constexpr size_t kMaxCameraIdLength = 2 * kMaxIdLength + 1;
bool valid_camera_id(std::string_view id);
// The agent (device) part of a camera id: "garden-pi/front" -> "garden-pi".
std::string_view camera_device(std::string_view camera);
// `text` cut to at most `max_bytes` on a character boundary: free text (an
// error's reason) that a reader would otherwise refuse as too long.
std::string within(const std::string &text, size_t max_bytes);

// Reads members of one JSON object; the first problem wins and is reported
// as "field NAME: what is wrong".
class Reader {
  // json-glib also reads escapes JSON does not have (GScanner's octal: "\7000"
  // gives the byte 0xC0), so a string may hold bytes that are not UTF-8 and
  // would not read back as they were written.
  static constexpr const char *kNotUtf8 = "must be valid UTF-8";
  static bool valid_text(std::string_view s) { return g_utf8_validate(s.data(), gssize(s.size()), nullptr); }

 public:
  Reader(JsonObject *obj, std::string prefix = {}) : obj_(obj), prefix_(std::move(prefix)) {}

  bool ok() const { return error_.empty(); }
  JsonObject *object() const { return obj_; }
  const std::string &error() const { return error_; }
  void fail(const std::string &field, const std::string &what) {
    if (error_.empty()) error_ = "field " + prefix_ + field + ": " + what;
  }

  std::string str(const char *name, size_t max_len, bool required = true) {
    JsonNode *n = json_object_get_member(obj_, name);
    if (!n || JSON_NODE_HOLDS_NULL(n)) {
      if (required) fail(name, "missing");
      return {};
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
      fail(name, "must be a string");
      return {};
    }
    std::string s = json_node_get_string(n);
    if (s.size() > max_len) {
      fail(name, "longer than " + std::to_string(max_len) + " bytes");
      return {};
    }
    if (!valid_text(s)) {
      fail(name, kNotUtf8);
      return {};
    }
    return s;
  }

  std::string id(const char *name, bool required = true) {
    std::string s = str(name, kMaxIdLength, required);
    if (ok() && (required || !s.empty()) && !valid_id(s)) fail(name, "must be 1-64 characters of A-Z a-z 0-9 . _ -");
    return s;
  }

  std::string camera(const char *name, bool required = true) {
    std::string s = str(name, kMaxCameraIdLength, required);
    if (ok() && (required || !s.empty()) && !valid_camera_id(s))
      fail(name, "must be a camera id: DEVICE or DEVICE/NAME, each 1-64 characters of A-Z a-z 0-9 . _ -");
    return s;
  }

  long integer(const char *name, long min, long max) {
    const double d = number_value(name);
    if (!ok()) return 0;
    if (std::floor(d) != d) {
      fail(name, "must be a whole number");
      return 0;
    }
    if (d < double(min) || d > double(max)) {
      fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return 0;
    }
    return long(d);
  }

  // A figure (fps, kbit/s): read as a whole number, as Writer::number writes it,
  // so that whatever is read writes back the same.
  double number(const char *name, double min, double max) {
    const double d = std::round(number_value(name));
    if (!ok()) return 0;
    if (!std::isfinite(d) || d < min || d > max) {
      fail(name, "out of range");
      return 0;
    }
    return d;
  }

  // `absent`: the value of an optional member that is not there.
  bool boolean(const char *name, std::optional<bool> absent = std::nullopt) {
    JsonNode *n = json_object_get_member(obj_, name);
    if (!n) {
      if (absent) return *absent;
      fail(name, "missing");
      return false;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
      fail(name, "must be true or false");
      return false;
    }
    return json_node_get_boolean(n);
  }

  // Calls `each` with a Reader over every object of the array member `name`.
  void objects(const char *name, size_t max_items, const std::function<void(Reader &)> &each) {
    JsonNode *n = json_object_get_member(obj_, name);
    if (!n) {
      fail(name, "missing");
      return;
    }
    if (!JSON_NODE_HOLDS_ARRAY(n)) {
      fail(name, "must be an array");
      return;
    }
    JsonArray *a = json_node_get_array(n);
    guint len = json_array_get_length(a);
    if (len > max_items) {
      fail(name, "more than " + std::to_string(max_items) + " items");
      return;
    }
    for (guint i = 0; i < len && ok(); ++i) {
      JsonNode *item = json_array_get_element(a, i);
      std::string where = prefix_ + name + "[" + std::to_string(i) + "].";
      if (!JSON_NODE_HOLDS_OBJECT(item)) {
        fail(std::string(name) + "[" + std::to_string(i) + "]", "must be an object");
        return;
      }
      Reader r(json_node_get_object(item), where);
      each(r);
      if (!r.ok() && error_.empty()) error_ = r.error();
    }
  }

  std::vector<std::string> strings(const char *name, size_t max_items, size_t max_len) {
    std::vector<std::string> out;
    JsonNode *n = json_object_get_member(obj_, name);
    if (!n) {
      fail(name, "missing");
      return out;
    }
    if (!JSON_NODE_HOLDS_ARRAY(n)) {
      fail(name, "must be an array");
      return out;
    }
    JsonArray *a = json_node_get_array(n);
    guint len = json_array_get_length(a);
    if (len > max_items) {
      fail(name, "more than " + std::to_string(max_items) + " items");
      return out;
    }
    for (guint i = 0; i < len; ++i) {
      JsonNode *item = json_array_get_element(a, i);
      if (!JSON_NODE_HOLDS_VALUE(item) || json_node_get_value_type(item) != G_TYPE_STRING ||
          std::string_view(json_node_get_string(item)).size() > max_len) {
        fail(std::string(name) + "[" + std::to_string(i) + "]",
             "must be a string of at most " + std::to_string(max_len) + " bytes");
        return out;
      }
      if (!valid_text(json_node_get_string(item))) {
        fail(std::string(name) + "[" + std::to_string(i) + "]", kNotUtf8);
        return out;
      }
      out.emplace_back(json_node_get_string(item));
    }
    return out;
  }

 private:
  double number_value(const char *name) {
    JsonNode *n = json_object_get_member(obj_, name);
    if (!n) {
      fail(name, "missing");
      return 0;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) ||
        (json_node_get_value_type(n) != G_TYPE_INT64 && json_node_get_value_type(n) != G_TYPE_DOUBLE)) {
      fail(name, "must be a number");
      return 0;
    }
    return json_node_get_double(n);
  }

  JsonObject *obj_;
  std::string prefix_;
  std::string error_;
};

class Writer {
 public:
  // An object; with `type`, its first member is "type": type.
  explicit Writer(const char *type = nullptr) : b_(adopt(json_builder_new_immutable())) {
    json_builder_begin_object(b_.get());
    if (type) str("type", type);
  }
  Writer &str(const char *k, const std::string &v) {
    json_builder_set_member_name(b_.get(), k);
    json_builder_add_string_value(b_.get(), v.c_str());
    return *this;
  }
  Writer &opt_str(const char *k, const std::string &v) { return v.empty() ? *this : str(k, v); }
  Writer &integer(const char *k, long v) {
    json_builder_set_member_name(b_.get(), k);
    json_builder_add_int_value(b_.get(), v);
    return *this;
  }
  Writer &number(const char *k, double v) {
    json_builder_set_member_name(b_.get(), k);
    // Figures go out as whole numbers: json-glib prints fractions with 17 digits.
    json_builder_add_double_value(b_.get(), std::round(v));
    return *this;
  }
  Writer &boolean(const char *k, bool v) {
    json_builder_set_member_name(b_.get(), k);
    json_builder_add_boolean_value(b_.get(), v);
    return *this;
  }
  // A list of strings, left out when empty.
  Writer &opt_strings(const char *k, const std::vector<std::string> &v) {
    if (v.empty()) return *this;
    json_builder_set_member_name(b_.get(), k);
    json_builder_begin_array(b_.get());
    for (const auto &s : v) json_builder_add_string_value(b_.get(), s.c_str());
    json_builder_end_array(b_.get());
    return *this;
  }
  JsonBuilder *raw() { return b_.get(); }
  std::string done() {
    json_builder_end_object(b_.get());
    auto root = adopt(json_builder_get_root(b_.get()));
    return take_string(json_to_string(root.get(), FALSE));
  }

 private:
  Owned<JsonBuilder> b_;
};

// Adds member `name` holding the JSON object `text` (an empty object if it is not one).
void add_object_text(JsonBuilder *b, const char *name, const std::string &text);

// A node written back as JSON text, or nullopt when json-glib's writer makes
// text that is not JSON (it writes numbers such as 4e80 or 1e-5 as "4e+80.0").
std::optional<std::string> node_text(JsonNode *node);

// Parses text that must hold one JSON object (the node is one), or says why not.
Result<Owned<JsonNode>> parse_object(std::string_view text);

}  // namespace sl::json
