#include "json_io.hpp"

namespace sl::json {

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id)
    if (!g_ascii_isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

bool valid_camera_id(std::string_view id) {
  // Neither part may be "." or "..": ids become URL paths and topic levels.
  auto part = [](std::string_view p) { return valid_id(p) && p.find_first_not_of('.') != std::string_view::npos; };
  const size_t slash = id.find('/');
  if (slash == std::string_view::npos) return part(id);
  return part(id.substr(0, slash)) && part(id.substr(slash + 1));
}

std::string_view camera_device(std::string_view camera) { return camera.substr(0, camera.find('/')); }

std::string within(const std::string &text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  // The start of the character that holds byte max_bytes: all before it fits.
  const char *end = g_utf8_find_prev_char(text.c_str(), text.c_str() + max_bytes + 1);
  return text.substr(0, end ? size_t(end - text.c_str()) : 0);
}

Result<Owned<JsonNode>> parse_object(std::string_view text) {
  auto parser = adopt(json_parser_new_immutable());
  GError *raw_error = nullptr;
  if (!json_parser_load_from_data(parser.get(), text.data(), gssize(text.size()), &raw_error)) {
    Owned<GError> e(raw_error);
    return fail(std::string("not valid JSON: ") + e->message);
  }
  JsonNode *root = json_parser_get_root(parser.get());
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return fail("message must be a JSON object");
  return ref(root);
}

void add_object_text(JsonBuilder *b, const char *name, const std::string &text) {
  auto node = parse_object(text.empty() ? "{}" : text);
  json_builder_set_member_name(b, name);
  if (node) {
    json_builder_add_value(b, json_node_copy(node->get()));
  } else {
    json_builder_begin_object(b);
    json_builder_end_object(b);
  }
}

std::optional<std::string> node_text(JsonNode *node) {
  OwnedStr text(json_to_string(node, FALSE));
  auto parser = adopt(json_parser_new());
  if (!text || !json_parser_load_from_data(parser.get(), text.get(), -1, nullptr)) return std::nullopt;
  return std::string(text.get());
}

}  // namespace sl::json
