// The relay's HTTP side: the web app (static files, / and /view/<id>), the
// camera list (GET /api/cameras), commands (POST /api/cameras/<id>/commands),
// snapshots (GET /api/cameras/<id>/snapshot.jpg) and the health check (GET /healthz).
#pragma once

#include "auth/access.hpp"
#include "control/control_bridge.hpp"
#include "sessions/session_table.hpp"

#include <libsoup/soup.h>

#include <string>

namespace sl::relay {

class HttpRoutes {
 public:
  HttpRoutes(SoupServer *server, std::string web_root, const SessionTable &table, ControlBridge &commands,
             const Access &access);

 private:
  // Before the body is read: refuses what would be refused anyway (credentials, size).
  void screen(SoupServerMessage *msg, const std::string &path);
  void handle(SoupServerMessage *msg, const char *path);
  // The caller's claims, or nullopt after answering 401.
  std::optional<auth::Claims> authorize(SoupServerMessage *msg);
  void post_command(SoupServerMessage *msg, const std::string &camera);
  void get_snapshot(SoupServerMessage *msg, const std::string &camera);
  void serve_file(SoupServerMessage *msg, const std::string &relative);

  std::string web_root_;
  const SessionTable &table_;
  ControlBridge &commands_;
  const Access &access_;
};

// The content type for a file name, by its extension.
const char *content_type_for(const std::string &name);

}  // namespace sl::relay
