// The relay's HTTP side: the web app (static files, / and /view/<id>), the
// camera list (GET /api/cameras, paged and filtered), commands (POST
// /api/cameras/<id>/commands), snapshots (GET /api/cameras/<id>/snapshot.jpg),
// the health check (GET /healthz) and the counters (GET /metrics, admin).
#pragma once

#include "auth/access.hpp"
#include "control/control_bridge.hpp"
#include "sessions/session_table.hpp"
#include "static_files.hpp"

#include <libsoup/soup.h>

#include <functional>
#include <string>

namespace sl::relay {

class HttpRoutes {
 public:
  // `scrape` renders /metrics.
  HttpRoutes(SoupServer *server, std::string web_root, const SessionTable &table, ControlBridge &commands,
             const Access &access, std::function<std::string()> scrape);

 private:
  // Before the body is read: refuses what would be refused anyway (credentials, size).
  void screen(SoupServerMessage *msg, const std::string &path);
  void handle(SoupServerMessage *msg, const char *path);
  // The caller's claims, or nullopt after answering 401.
  std::optional<auth::Claims> authorize(SoupServerMessage *msg);
  void post_command(SoupServerMessage *msg, const std::string &camera);
  void get_snapshot(SoupServerMessage *msg, const std::string &camera);
  void serve_file(SoupServerMessage *msg, const std::string &relative);
  void list_cameras(SoupServerMessage *msg, const auth::Claims &claims);

  std::string web_root_;
  StaticFiles files_{web_root_};
  const SessionTable &table_;
  ControlBridge &commands_;
  const Access &access_;
  std::function<std::string()> scrape_;
};

// GET /api/cameras's parameters (q, online, offset, limit) as a query, or what is wrong.
Result<proto::CameraQuery> parse_camera_query(GHashTable *params);

// The content type for a file name, by its extension.
const char *content_type_for(const std::string &name);

}  // namespace sl::relay
