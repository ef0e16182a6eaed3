// The relay's HTTP side: the web app (static files, / and /view/<id>), the
// camera list (GET /api/cameras) and the health check (GET /healthz).
#pragma once

#include "session_table.hpp"

#include <libsoup/soup.h>

#include <string>

namespace sl::relay {

class HttpRoutes {
 public:
  HttpRoutes(SoupServer *server, std::string web_root, const SessionTable &table);

 private:
  void handle(SoupServerMessage *msg, const char *path);
  void serve_file(SoupServerMessage *msg, const std::string &relative);

  std::string web_root_;
  const SessionTable &table_;
};

// The content type for a file name, by its extension.
const char *content_type_for(const std::string &name);

}  // namespace sl::relay
