#include "http_routes.hpp"

#include "gobj.hpp"

#include <cstring>

namespace sl::relay {

const char *content_type_for(const std::string &name) {
  static const std::pair<const char *, const char *> types[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".ico", "image/x-icon"}, {".jpg", "image/jpeg"}, {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto &[ext, type] : types)
    if (g_str_has_suffix(name.c_str(), ext)) return type;
  return "application/octet-stream";
}

HttpRoutes::HttpRoutes(SoupServer *server, std::string web_root, const SessionTable &table)
    : web_root_(std::move(web_root)), table_(table) {
  soup_server_add_handler(
      server, nullptr,
      [](SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) {
        static_cast<HttpRoutes *>(self)->handle(msg, path);
      },
      this, nullptr);
}

namespace {
void respond(SoupServerMessage *msg, guint status, const char *type, const std::string &body) {
  soup_server_message_set_status(msg, status, nullptr);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control", "no-cache");
  soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, body.data(), body.size());
}
}  // namespace

void HttpRoutes::handle(SoupServerMessage *msg, const char *raw_path) {
  const char *method = soup_server_message_get_method(msg);
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "GET, HEAD");
    respond(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain", "Only GET and HEAD are served here.\n");
    return;
  }
  const std::string path = raw_path ? raw_path : "/";
  if (path == "/api/cameras") {
    respond(msg, SOUP_STATUS_OK, "application/json", proto::cameras_to_json_array(table_.cameras()));
  } else if (path == "/healthz") {
    respond(msg, SOUP_STATUS_OK, "application/json",
            "{\"status\":\"ok\",\"agents\":" + std::to_string(table_.agent_count()) +
                ",\"viewers\":" + std::to_string(table_.viewer_count()) +
                ",\"sessions\":" + std::to_string(table_.session_count()) + "}");
  } else if (path == "/" || path == "/index.html") {
    serve_file(msg, "index.html");
  } else if (path.rfind("/view/", 0) == 0) {
    serve_file(msg, "view.html");
  } else {
    serve_file(msg, path.substr(1));
  }
}

void HttpRoutes::serve_file(SoupServerMessage *msg, const std::string &relative) {
  // libsoup hands us the decoded path; refuse anything that could leave web_root.
  if (relative.empty() || relative.find("..") != std::string::npos || relative.find('\\') != std::string::npos ||
      relative.front() == '/') {
    respond(msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Not found.\n");
    return;
  }
  const std::string file = web_root_ + "/" + relative;
  gchar *data = nullptr;
  gsize size = 0;
  if (!g_file_test(file.c_str(), G_FILE_TEST_IS_REGULAR) || !g_file_get_contents(file.c_str(), &data, &size, nullptr)) {
    respond(msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Not found.\n");
    return;
  }
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control", "no-cache");
  soup_server_message_set_response(msg, content_type_for(relative), SOUP_MEMORY_TAKE, data, size);
}

}  // namespace sl::relay
