#include "http_routes.hpp"

#include "gobj.hpp"
#include "json_io.hpp"

#include <cstring>

namespace sl::relay {

const char *content_type_for(const std::string &name) {
  static const std::pair<const char *, const char *> types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".jpg", "image/jpeg"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto &[ext, type] : types)
    if (g_str_has_suffix(name.c_str(), ext)) return type;
  return "application/octet-stream";
}

HttpRoutes::HttpRoutes(SoupServer *server, std::string web_root, const SessionTable &table, ControlBridge &commands,
                       const Access &access, std::function<std::string()> scrape)
    : web_root_(std::move(web_root)), table_(table), commands_(commands), access_(access), scrape_(std::move(scrape)) {
  soup_server_add_early_handler(
      server, nullptr,
      [](SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) {
        static_cast<HttpRoutes *>(self)->screen(msg, path ? path : "/");
      },
      this, nullptr);
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

// "/api/cameras/cam1/commands" with leaf "commands" -> "cam1"; "/api/cameras/pi/front/commands"
// and ".../pi%2Ffront/commands" -> "pi/front"; empty otherwise.
std::string camera_in(const std::string &path, const std::string &leaf) {
  const std::string lead = "/api/cameras/";
  if (path.rfind(lead, 0) != 0 || path.size() <= lead.size() + leaf.size() + 1) return {};
  if (path.compare(path.size() - leaf.size() - 1, std::string::npos, "/" + leaf) != 0) return {};
  // A camera id may hold one slash (DEVICE/NAME), as is or escaped (%2F).
  const std::string id = path.substr(lead.size(), path.size() - lead.size() - leaf.size() - 1);
  OwnedStr unescaped(g_uri_unescape_string(id.c_str(), nullptr));
  return unescaped ? std::string(unescaped.get()) : std::string();
}

void respond_ack(SoupServerMessage *msg, const control::Ack &ack, int status) {
  respond(msg, guint(status), "application/json", control::to_json(ack));
}

constexpr size_t kMaxCommandBody = 16 * 1024;
// The API request's claims, checked from its headers by screen().
constexpr const char *kClaimsKey = "sightline-claims";
}  // namespace

// Judged from the headers alone, before any of the body is read: libsoup reads no
// body for a request an early handler gave a status. A request for the API without
// valid credentials gets 401 (403 for a bad origin), a body larger than its route
// takes 413 (only commands take one, 16 KiB at most), a body of unknown length on
// the API 411. So nobody makes the relay hold a body it would refuse.
void HttpRoutes::screen(SoupServerMessage *msg, const std::string &path) {
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
  const SoupEncoding encoding = soup_message_headers_get_encoding(headers);
  const goffset length =
      encoding == SOUP_ENCODING_CONTENT_LENGTH ? soup_message_headers_get_content_length(headers) : 0;
  const bool api = path.rfind("/api/", 0) == 0;
  const char *method = soup_server_message_get_method(msg);
  if (api && strcmp(method, "OPTIONS") != 0) {
    auto claims = access_.client(msg);
    if (!claims) {
      if (length > 0 || encoding == SOUP_ENCODING_CHUNKED)
        g_message("http: %s %s refused before its body was read (%s; %lld bytes announced)", method, path.c_str(),
                  claims.error().code.c_str(), (long long)length);
      refuse(msg, claims.error());
      return;
    }
    // Kept with the request: its handler uses them, the token is checked once.
    g_object_set_data_full(G_OBJECT(msg), kClaimsKey, new auth::Claims(*std::move(claims)),
                           [](gpointer c) { delete static_cast<auth::Claims *>(c); });
  }
  const size_t limit = api && !camera_in(path, "commands").empty() ? kMaxCommandBody : 0;
  if (api && encoding == SOUP_ENCODING_CHUNKED) {
    respond(msg, SOUP_STATUS_LENGTH_REQUIRED, "text/plain", "Send the body with a Content-Length.\n");
  } else if (encoding == SOUP_ENCODING_CHUNKED || encoding == SOUP_ENCODING_EOF || length > goffset(limit)) {
    g_message("http: %s %s refused: a body of %lld bytes, more than its %zu", method, path.c_str(), (long long)length,
              limit);
    respond(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "text/plain",
            "The body is larger than " + std::to_string(limit) + " bytes.\n");
  }
}

std::optional<auth::Claims> HttpRoutes::authorize(SoupServerMessage *msg) {
  if (auto *checked = static_cast<auth::Claims *>(g_object_get_data(G_OBJECT(msg), kClaimsKey))) return *checked;
  auto claims = access_.client(msg);
  if (!claims) {
    refuse(msg, claims.error());
    return std::nullopt;
  }
  return *claims;
}

void HttpRoutes::handle(SoupServerMessage *msg, const char *raw_path) {
  const char *method = soup_server_message_get_method(msg);
  const std::string path = raw_path ? raw_path : "/";
  // The web app and the health check are public; the API needs a token.
  if (path.rfind("/api/", 0) == 0) {
    const bool cors = access_.allow_cors(msg);
    if (!strcmp(method, "OPTIONS")) {  // a CORS preflight carries no token
      respond(msg, cors ? SOUP_STATUS_NO_CONTENT : SOUP_STATUS_FORBIDDEN, "text/plain", "");
      return;
    }
    const auto claims = authorize(msg);
    if (!claims) return;
    const std::string commanded = camera_in(path, "commands");
    const std::string pictured = camera_in(path, "snapshot.jpg");
    const std::string camera = !commanded.empty() ? commanded : pictured;
    // A camera outside the token's scope is answered like one that does not exist.
    if (!camera.empty() && !claims->may_see(camera)) {
      control::Ack a = control::error_ack("unknown_camera", "there is no camera '" + camera + "'");
      a.camera = camera;
      respond_ack(msg, a, SOUP_STATUS_NOT_FOUND);
      return;
    }
    if (!commanded.empty()) {
      const auto allowed = may_command(*claims, commanded);  // the same rule as on viewer sockets
      if (method != SOUP_METHOD_POST) {
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "POST");
        respond(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain", "Commands are sent with POST.\n");
      } else if (!allowed) {
        refuse(msg, Refusal{SOUP_STATUS_FORBIDDEN, allowed.error().code, allowed.error().message});
      } else {
        post_command(msg, commanded);
      }
      return;
    }
    if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "GET, HEAD");
      respond(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain", "Only GET and HEAD are served here.\n");
      return;
    }
    if (!pictured.empty()) {
      get_snapshot(msg, pictured);
    } else if (path == "/api/cameras") {
      list_cameras(msg, *claims);
    } else if (path == "/api/session") {
      // What the caller's token allows: the page shows it and knows whether to offer commands.
      json::Writer w;
      w.str("role", auth::role_name(claims->role))
          .integer("expires_at", long(claims->expires_at_s))
          .boolean("insecure", access_.insecure());
      JsonBuilder *b = w.raw();
      json_builder_set_member_name(b, "cameras");
      json_builder_begin_array(b);
      for (const auto &c : claims->cameras) json_builder_add_string_value(b, c.c_str());
      json_builder_end_array(b);
      respond(msg, SOUP_STATUS_OK, "application/json", w.done());
    } else {
      respond(msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Not found.\n");
    }
    return;
  }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "GET, HEAD");
    respond(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain", "Only GET and HEAD are served here.\n");
    return;
  }
  if (path == "/metrics") {
    // Counts only, but about everyone's cameras: an admin's token (a Prometheus
    // scrape job's `authorization` credentials), like the API.
    const auto claims = authorize(msg);
    if (!claims) return;
    if (claims->role < auth::Role::Admin) {
      refuse(msg, Refusal{SOUP_STATUS_FORBIDDEN, "forbidden", "/metrics needs the admin role"});
      return;
    }
    respond(msg, SOUP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", scrape_());
  } else if (path == "/healthz") {
    json::Writer health;
    health.str("status", "ok")
        .integer("agents", long(table_.agent_count()))
        .integer("viewers", long(table_.viewer_count()))
        .integer("sessions", long(table_.session_count()));
    respond(msg, SOUP_STATUS_OK, "application/json", health.done());
  } else if (path == "/" || path == "/index.html") {
    serve_file(msg, "index.html");
  } else if (path.rfind("/view/", 0) == 0) {
    serve_file(msg, "view.html");
  } else {
    serve_file(msg, path.substr(1));
  }
}

Result<proto::CameraQuery> parse_camera_query(GHashTable *params) {
  proto::CameraQuery query;
  query.limit = 100;
  auto value = [&](const char *name) -> const char * {
    return params ? static_cast<const char *>(g_hash_table_lookup(params, name)) : nullptr;
  };
  auto whole = [&](const char *name, size_t min, size_t max, size_t &out) -> Result<void> {
    const char *text = value(name);
    if (!text) return ok();
    guint64 n = 0;
    if (!g_ascii_string_to_unsigned(text, 10, min, max, &n, nullptr))
      return fail("parameter '" + std::string(name) + "' must be a whole number from " + std::to_string(min) + " to " +
                  std::to_string(max) + ", not '" + text + "'");
    out = size_t(n);
    return ok();
  };
  if (auto r = whole("offset", 0, 1u << 30, query.offset); !r) return fail(r.error());
  if (auto r = whole("limit", 1, 1000, query.limit); !r) return fail(r.error());
  if (const char *online = value("online")) {
    if (!strcmp(online, "true"))
      query.online = true;
    else if (!strcmp(online, "false"))
      query.online = false;
    else
      return fail("parameter 'online' must be true or false, not '" + std::string(online) + "'");
  }
  if (const char *q = value("q")) {
    if (strlen(q) > json::kMaxIdLength) return fail("parameter 'q' is longer than a camera id");
    query.q = q;
  }
  return query;
}

void HttpRoutes::list_cameras(SoupServerMessage *msg, const auth::Claims &claims) {
  const char *raw = g_uri_get_query(soup_server_message_get_uri(msg));
  Owned<GHashTable> params(raw ? g_uri_parse_params(raw, -1, "&", G_URI_PARAMS_WWW_FORM, nullptr) : nullptr);
  if (raw && !params) {
    respond(msg, SOUP_STATUS_BAD_REQUEST, "text/plain", "The query string is malformed.\n");
    return;
  }
  auto query = parse_camera_query(params.get());
  if (!query) {
    respond(msg, SOUP_STATUS_BAD_REQUEST, "text/plain", query.error() + ".\n");
    return;
  }
  respond(msg, SOUP_STATUS_OK, "application/json",
          proto::page_to_json(table_.list(claims.cameras, *query), query->limit));
}

void HttpRoutes::post_command(SoupServerMessage *msg, const std::string &camera) {
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  const std::string text = body && body->data ? std::string(body->data, size_t(body->length)) : std::string();
  auto bad_request = [&](const std::string &code, const std::string &message, const std::string &param = {}) {
    control::Ack a = control::error_ack(code, message, param);
    a.camera = camera;
    respond_ack(msg, a, SOUP_STATUS_BAD_REQUEST);
  };
  if (!json::valid_camera_id(camera)) return bad_request("unknown_camera", "'" + camera + "' is not a camera id");
  if (text.size() > kMaxCommandBody) return bad_request("bad_message", "the body is larger than 16 KiB");
  // The body is the envelope without id and issued_at: the relay assigns both.
  auto parsed = control::parse_command(text);
  if (!parsed) return bad_request(parsed.error().code, parsed.error().message, parsed.error().param);
  const auto &command = *parsed;
  g_object_ref(msg);
  soup_server_message_pause(msg);
  // No ttl_ms in the body: the relay's own command timeout (parse_command reads an absent one as its default).
  const auto body_object = json::parse_object(text);
  const bool ttl_given = body_object && json_object_has_member(json_node_get_object(body_object->get()), "ttl_ms");
  commands_.send(camera, command.type, command.params, ttl_given ? command.ttl_ms : 0,
                 [msg](const control::Ack &ack, int status) {
                   respond_ack(msg, ack, status);
                   soup_server_message_unpause(msg);
                   g_object_unref(msg);
                 });
}

void HttpRoutes::get_snapshot(SoupServerMessage *msg, const std::string &camera) {
  auto serve = [this, camera](SoupServerMessage *m) {
    const std::string *jpeg = commands_.latest_snapshot(camera);
    if (!jpeg) {
      respond(m, SOUP_STATUS_NOT_FOUND, "text/plain", "No snapshot of camera '" + camera + "' yet.\n");
      return;
    }
    respond(m, SOUP_STATUS_OK, "image/jpeg", *jpeg);
  };
  // ?latest=1: the last one taken; with taken_at=MS (the ack's url carries it),
  // one at least that recent, waiting a moment for it if it is still on its way.
  const char *query = g_uri_get_query(soup_server_message_get_uri(msg));
  GHashTable *params = query ? soup_form_decode(query) : nullptr;
  const char *latest = params ? static_cast<const char *>(g_hash_table_lookup(params, "latest")) : nullptr;
  const char *taken = params ? static_cast<const char *>(g_hash_table_lookup(params, "taken_at")) : nullptr;
  const bool want_latest = latest && std::string(latest) == "1";
  const int64_t taken_at = taken ? g_ascii_strtoll(taken, nullptr, 10) : 0;
  if (params) g_hash_table_unref(params);
  g_object_ref(msg);
  soup_server_message_pause(msg);
  auto finish = [msg](auto &&write) {
    write(msg);
    soup_server_message_unpause(msg);
    g_object_unref(msg);
  };
  if (want_latest) {
    // Clocks of agent and relay may differ a little: a second of slack.
    commands_.when_snapshot(camera, taken_at ? taken_at - 1000 : 0, 3000, [finish, serve] { finish(serve); });
    return;
  }
  // A fresh one: ask the camera, and serve what it published before its ack.
  commands_.send(camera, "snapshot", "{}", 0, [finish, serve](const control::Ack &ack, int status) {
    finish([&](SoupServerMessage *m) {
      if (status == 200 && ack.ok)
        serve(m);
      else
        respond_ack(m, ack, status == 200 ? SOUP_STATUS_BAD_GATEWAY : status);
    });
  });
}

void HttpRoutes::serve_file(SoupServerMessage *msg, const std::string &relative) {
  // libsoup hands us the decoded path; refuse anything that could leave web_root.
  if (relative.empty() || relative.find("..") != std::string::npos || relative.find('\\') != std::string::npos ||
      relative.front() == '/') {
    respond(msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Not found.\n");
    return;
  }
  auto file = files_.get(relative);
  if (!file) {
    respond(msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Not found.\n");
    return;
  }
  SoupMessageHeaders *in = soup_server_message_get_request_headers(msg);
  SoupMessageHeaders *out = soup_server_message_get_response_headers(msg);
  // Always asked again (the app changes with the relay), answered 304 when unchanged.
  soup_message_headers_replace(out, "Cache-Control", "no-cache");
  soup_message_headers_replace(out, "ETag", file->etag.c_str());
  if (file->gzipped) soup_message_headers_replace(out, "Vary", "Accept-Encoding");
  if (etag_matches(soup_message_headers_get_one(in, "If-None-Match"), file->etag)) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_MODIFIED, nullptr);
    return;
  }
  const bool gzip = file->gzipped && accepts_gzip(soup_message_headers_get_one(in, "Accept-Encoding"));
  if (gzip) soup_message_headers_replace(out, "Content-Encoding", "gzip");
  GBytes *body = (gzip ? file->gzipped : file->bytes).get();
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  soup_message_headers_set_content_type(out, file->content_type.c_str(), nullptr);
  soup_message_body_append_bytes(soup_server_message_get_response_body(msg), body);
}

}  // namespace sl::relay
