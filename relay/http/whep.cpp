#include "whep.hpp"

#include "json_io.hpp"
#include "main_context.hpp"

#include <cstring>

namespace sl::relay {

namespace {
constexpr const char *kEndpoint = "/whep/";
constexpr const char *kResource = "/whep/session/";
constexpr size_t kMaxOffer = 64 * 1024;     // a browser's offer with audio and video is ~5 KiB
constexpr size_t kMaxFragment = 16 * 1024;  // a trickle PATCH: a few candidates
// The answer waits for the agent's candidates: until its end-of-candidates, a
// quiet moment after its last one, or this bound. Later ones are dropped (the
// player's own candidates, trickled by PATCH, let ICE find the pair anyway).
constexpr gint64 kGatherBoundUs = 2 * G_USEC_PER_SEC;
constexpr gint64 kGatherQuietUs = 300 * 1000;
constexpr const char *kClaimsKey = "sightline-whep-claims";

void respond(SoupServerMessage *msg, guint status, const std::string &body, const char *type = "text/plain") {
  soup_server_message_set_status(msg, status, nullptr);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control", "no-cache");
  soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, body.data(), body.size());
}

// libsoup interns the methods it knows, and PATCH is not among them.
bool is(const char *method, const char *name) { return method && strcmp(method, name) == 0; }

std::string header(SoupServerMessage *msg, const char *name) {
  const char *v = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), name);
  return v ? v : "";
}

// The media type without its parameters, lower case.
std::string media_type(SoupServerMessage *msg) {
  const char *type = soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg), nullptr);
  return type ? OwnedStr(g_ascii_strdown(type, -1)).get() : "";
}

std::string body_of(SoupServerMessage *msg) {
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  return body && body->data ? std::string(body->data, size_t(body->length)) : std::string();
}

// The table's refusal of a watch, as an HTTP status.
guint status_for(const std::string &code) {
  if (code == "unknown_camera") return SOUP_STATUS_NOT_FOUND;
  if (code == "camera_offline") return SOUP_STATUS_SERVICE_UNAVAILABLE;
  if (code.rfind("too_many", 0) == 0) return 429;  // Too Many Requests (libsoup 3.2 has no name for it)
  return SOUP_STATUS_BAD_REQUEST;
}
}  // namespace

Whep::Whep(SoupServer *server, const Access &access, SessionTable &table, SocketHub &hub, Metrics &metrics)
    : access_(access), table_(table), hub_(hub), metrics_(metrics) {
  hub_.attach(this);
  // Its own early handler: libsoup runs the one of the longest matching path, so
  // /whep requests are judged here, not by the API's rules.
  soup_server_add_early_handler(
      server, "/whep",
      [](SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) {
        static_cast<Whep *>(self)->screen(msg, path ? path : "/");
      },
      this, nullptr);
  soup_server_add_handler(
      server, "/whep",
      [](SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) {
        static_cast<Whep *>(self)->handle(msg, path ? path : "/");
      },
      this, nullptr);
}

Whep::~Whep() {
  hub_.attach(static_cast<VirtualViewers *>(nullptr));
  for (auto &[peer, s] : sessions_) release_post(*s);
}

// Judged from the headers alone, before any of the body is read (as HttpRoutes::screen
// does for the API): a browser from an origin not allowed gets 403, a request without
// a valid token 401, a body of unknown length 411, one larger than its route takes 413.
void Whep::screen(SoupServerMessage *msg, const std::string &path) {
  const char *method = soup_server_message_get_method(msg);
  if (is(method, "OPTIONS")) return;  // a CORS preflight carries no token
  // A browser page's request: from this relay's own pages, the allowed origins, or the CORS ones.
  if (!header(msg, "Origin").empty() && !access_.check_origin(msg) && !access_.allow_cors(msg)) {
    refuse(msg, Refusal{SOUP_STATUS_FORBIDDEN, "bad_origin", "origin " + header(msg, "Origin") + " is not allowed"});
    return;
  }
  auto claims = access_.client(msg);
  if (!claims) {
    refuse(msg, claims.error());
    return;
  }
  g_object_set_data_full(G_OBJECT(msg), kClaimsKey, new auth::Claims(*std::move(claims)),
                         [](gpointer c) { delete static_cast<auth::Claims *>(c); });
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
  const SoupEncoding encoding = soup_message_headers_get_encoding(headers);
  const goffset length =
      encoding == SOUP_ENCODING_CONTENT_LENGTH ? soup_message_headers_get_content_length(headers) : 0;
  const size_t limit = is(method, "POST") ? kMaxOffer : is(method, "PATCH") ? kMaxFragment : 0;
  if (encoding == SOUP_ENCODING_CHUNKED) {
    respond(msg, SOUP_STATUS_LENGTH_REQUIRED, "Send the body with a Content-Length.\n");
  } else if (encoding == SOUP_ENCODING_EOF || length > goffset(limit)) {
    g_message("whep: %s %s refused: a body of %lld bytes, more than its %zu", method, path.c_str(), (long long)length,
              limit);
    respond(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
            "The body is larger than " + std::to_string(limit) + " bytes.\n");
  }
}

void Whep::handle(SoupServerMessage *msg, const std::string &path) {
  const char *method = soup_server_message_get_method(msg);
  SoupMessageHeaders *out = soup_server_message_get_response_headers(msg);
  const bool resource = path.rfind(kResource, 0) == 0;
  const char *allow = resource ? "PATCH, DELETE, OPTIONS" : "POST, OPTIONS";
  // screen() may have added the CORS headers already, judging the origin.
  const bool cors =
      soup_message_headers_get_one(out, "Access-Control-Allow-Origin") != nullptr || access_.allow_cors(msg);
  if (cors) {
    soup_message_headers_replace(out, "Access-Control-Allow-Methods", allow);
    soup_message_headers_replace(out, "Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match");
    soup_message_headers_replace(out, "Access-Control-Expose-Headers", "Location, Link, ETag, Accept-Post");
  }
  if (!resource) soup_message_headers_replace(out, "Accept-Post", "application/sdp");
  if (is(method, "OPTIONS")) {
    soup_message_headers_replace(out, "Allow", allow);
    // A preflight from an origin outside cors-origins is refused; a plain OPTIONS (no Origin) is answered.
    respond(msg, cors || header(msg, "Origin").empty() ? SOUP_STATUS_NO_CONTENT : SOUP_STATUS_FORBIDDEN, "");
    return;
  }
  const auto *claims = static_cast<const auth::Claims *>(g_object_get_data(G_OBJECT(msg), kClaimsKey));
  if (!claims) {  // screen() answered already; never reached without it
    refuse(msg, Refusal{SOUP_STATUS_UNAUTHORIZED, "unauthorized", "a token is needed"});
    return;
  }
  auto not_allowed = [&] {
    soup_message_headers_replace(out, "Allow", allow);
    respond(msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
            resource ? "A WHEP session takes PATCH (trickle ICE) and DELETE.\n"
                     : "A WHEP endpoint takes POST with an SDP offer.\n");
  };
  if (resource) {
    if (!is(method, "PATCH") && !is(method, "DELETE")) return not_allowed();
    Session *s = by_resource(path.substr(strlen(kResource)));
    // Another token's camera is answered like a session that does not exist.
    if (!s || !claims->may_see(s->camera)) {
      respond(msg, SOUP_STATUS_NOT_FOUND, "No such WHEP session (it ended, or never was).\n");
      return;
    }
    if (is(method, "PATCH"))
      patch(msg, *s);
    else
      remove(msg, *s);
    return;
  }
  if (!is(method, "POST")) return not_allowed();
  // A camera id may hold one slash (DEVICE/NAME), as is or escaped (%2F).
  OwnedStr unescaped(g_uri_unescape_string(path.substr(std::min(path.size(), strlen(kEndpoint))).c_str(), nullptr));
  const std::string camera = unescaped ? unescaped.get() : "";
  if (!json::valid_camera_id(camera)) {
    respond(msg, SOUP_STATUS_NOT_FOUND, "'" + camera + "' is not a camera id: POST /whep/<camera>.\n");
    return;
  }
  post_offer(msg, *claims, camera);
}

void Whep::post_offer(SoupServerMessage *msg, const auth::Claims &claims, const std::string &camera) {
  metrics_.in("whep", "post");
  if (media_type(msg) != "application/sdp") {
    respond(msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "The offer is sent as Content-Type: application/sdp.\n");
    return;
  }
  // Outside the token's scope: as if it did not exist (the table says so too, for pages).
  const proto::CameraEntry *entry = claims.may_see(camera) ? table_.camera(camera) : nullptr;
  if (!entry) {
    respond(msg, SOUP_STATUS_NOT_FOUND, "There is no camera '" + camera + "'.\n");
    return;
  }
  const std::string sdp = body_of(msg);
  auto facts = whep::check_offer(sdp, entry->info.codec.empty() ? "H264" : entry->info.codec);
  if (!facts) {
    respond(msg, SOUP_STATUS_BAD_REQUEST, facts.error() + ".\n");
    return;
  }
  const char *host = soup_server_message_get_remote_host(msg);
  auto owned = std::make_unique<Session>();
  Session &s = *owned;
  s.peer = hub_.new_virtual_viewer();
  s.camera = camera;
  s.client = host ? host : "?";
  s.offer = *std::move(facts);
  s.pending = msg;
  g_object_ref(msg);
  soup_server_message_pause(msg);
  // The player went away before its answer: the session goes with it.
  struct Ctx {
    Whep *whep;
    PeerId peer;
  };
  s.disconnected_handler = g_signal_connect_data(
      msg, "disconnected", G_CALLBACK(+[](SoupServerMessage *, gpointer data) {
        auto *c = static_cast<Ctx *>(data);
        auto it = c->whep->sessions_.find(c->peer);
        if (it == c->whep->sessions_.end() || !it->second->pending) return;
        g_message("whep: camera %s: the player from %s left before its answer", it->second->camera.c_str(),
                  it->second->client.c_str());
        c->whep->release_post(*it->second, false);
        c->whep->end(c->peer);
      }),
      new Ctx{this, s.peer}, [](gpointer d, GClosure *) { delete static_cast<Ctx *>(d); }, GConnectFlags(0));
  const PeerId peer = s.peer;
  sessions_[peer] = std::move(owned);
  // The same decisions as for a page: limits, camera online, TURN credentials.
  // A fan-out worker's session takes the camera's stream from the camera itself.
  hub_.apply(
      table_.viewer_joined(peer, claims.cameras, s.client, claims.role, claims.expires_at_s,
                           access_.from_worker(msg) ? SessionTable::ViewerKind::Feed : SessionTable::ViewerKind::Whep));
  hub_.apply(table_.viewer_message(peer, proto::Watch{"whep", camera, sdp}, g_get_monotonic_time() / 1000));
}

void Whep::deliver(PeerId viewer, const proto::RelayToViewer &message) {
  auto it = sessions_.find(viewer);
  if (it == sessions_.end()) return;
  Session &s = *it->second;
  if (const auto *started = std::get_if<proto::SessionStarted>(&message)) {
    s.id = started->session;
    s.etag = "\"" + started->session.substr(0, 16) + "\"";
    s.ice_servers = started->ice_servers;
    resources_[s.id] = viewer;
  } else if (const auto *error = std::get_if<proto::Error>(&message)) {
    // A refusal of the watch (unknown or offline camera, a limit), or of a trickled candidate.
    if (s.pending) {
      fail_post(s, status_for(error->code), error->message);
      end(viewer);
    }
  } else if (const auto *answer = std::get_if<proto::Answer>(&message)) {
    if (!s.pending) return;
    s.answer = answer->sdp;
    s.answered_us = g_get_monotonic_time();
    s.gathering.reset(after_ms(guint(kGatherBoundUs / 1000), [this, viewer] {
      auto found = sessions_.find(viewer);
      if (found == sessions_.end()) return;
      found->second->gathering.release();
      answer_post(*found->second, false);
    }));
  } else if (const auto *ice = std::get_if<proto::Ice>(&message)) {
    if (!s.pending || s.answer.empty()) {
      g_debug("whep: session %s: a late candidate of the agent dropped", s.id.c_str());
      return;
    }
    if (ice->candidate.empty()) return answer_post(s, true);
    s.candidates.push_back({ice->sdp_mline_index, ice->candidate});
    // More may follow at once (one per address and protocol): a moment's quiet, within the bound.
    const gint64 now = g_get_monotonic_time();
    const gint64 due = std::min(now + kGatherQuietUs, s.answered_us + kGatherBoundUs);
    s.gathering.reset(after_ms(guint(std::max<gint64>(0, due - now) / 1000), [this, viewer] {
      auto found = sessions_.find(viewer);
      if (found == sessions_.end()) return;
      found->second->gathering.release();
      answer_post(*found->second, false);
    }));
  } else if (const auto *ended = std::get_if<proto::SessionEnd>(&message)) {
    g_message("whep: session %s (camera %s) ended: %s", ended->session.c_str(), s.camera.c_str(),
              ended->reason.c_str());
    if (s.pending) {
      const guint status = ended->reason == "camera_offline" ? SOUP_STATUS_SERVICE_UNAVAILABLE
                           : ended->reason == "timeout"      ? SOUP_STATUS_GATEWAY_TIMEOUT
                                                             : SOUP_STATUS_BAD_GATEWAY;
      fail_post(s, status, "The camera's agent did not answer the offer: " + ended->reason + ".\n");
    }
    end(viewer);
  } else if (std::holds_alternative<proto::Renew>(message)) {
    // The camera's address changed: a WHEP player cannot offer on a new connection
    // for the same resource (docs/protocol.md, "Renewing a session"). Its path is
    // dead: the session ends, and the player starts a new one as after any failure.
    g_message("whep: session %s (camera %s) ended: the camera's network changed", s.id.c_str(), s.camera.c_str());
    end(viewer);
  }
}

void Whep::answer_post(Session &s, bool complete) {
  if (!s.pending) return;
  s.gathering.reset();
  SoupServerMessage *msg = s.pending;
  SoupMessageHeaders *out = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(out, "Location", (kResource + s.id).c_str());
  soup_message_headers_replace(out, "ETag", s.etag.c_str());
  for (const auto &server : s.ice_servers)
    for (const auto &link : whep::link_headers(server)) soup_message_headers_append(out, "Link", link.c_str());
  respond(msg, SOUP_STATUS_CREATED, whep::answer_with_candidates(s.answer, s.candidates, complete), "application/sdp");
  g_message("whep: session %s: camera %s answered to %s with %zu candidate(s)%s", s.id.c_str(), s.camera.c_str(),
            s.client.c_str(), s.candidates.size(), complete ? ", all of them" : "");
  release_post(s);
}

void Whep::fail_post(Session &s, guint status, const std::string &why) {
  if (!s.pending) return;
  g_message("whep: camera %s, player %s refused (%u): %s", s.camera.c_str(), s.client.c_str(), status, why.c_str());
  respond(s.pending, status, why.back() == '\n' ? why : why + ".\n");
  release_post(s);
}

void Whep::release_post(Session &s, bool send) {
  s.gathering.reset();
  if (!s.pending) return;
  SoupServerMessage *msg = s.pending;
  s.pending = nullptr;
  g_signal_handler_disconnect(msg, s.disconnected_handler);
  if (send) soup_server_message_unpause(msg);
  g_object_unref(msg);
}

void Whep::patch(SoupServerMessage *msg, Session &s) {
  metrics_.in("whep", "patch");
  SoupMessageHeaders *out = soup_server_message_get_response_headers(msg);
  if (media_type(msg) != "application/trickle-ice-sdpfrag") {
    respond(msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
            "Trickled candidates are sent as Content-Type: application/trickle-ice-sdpfrag.\n");
    return;
  }
  const std::string match = header(msg, "If-Match");
  if (!match.empty() && match != "*" && match != s.etag) {
    respond(msg, SOUP_STATUS_PRECONDITION_FAILED,
            "If-Match " + match + " is not this session's ETag " + s.etag + ".\n");
    return;
  }
  auto fragment = whep::parse_fragment(body_of(msg));
  if (!fragment) {
    respond(msg, SOUP_STATUS_BAD_REQUEST, fragment.error() + ".\n");
    return;
  }
  // New ICE credentials ask for an ICE restart, which needs a new offer/answer with
  // the agent: not in the agent's protocol. The player starts a new session instead.
  if (!fragment->ice_ufrag.empty() && fragment->ice_ufrag != s.offer.ice_ufrag) {
    respond(msg, SOUP_STATUS_NOT_IMPLEMENTED,
            "ICE restarts are not supported: end this session (DELETE) and POST a new offer.\n");
    return;
  }
  const gint64 now_ms = g_get_monotonic_time() / 1000;
  for (const auto &c : fragment->candidates)
    hub_.apply(table_.viewer_message(s.peer, proto::Ice{s.id, c.candidate, whep::mline_of(s.offer, c.mid)}, now_ms));
  if (fragment->end_of_candidates) hub_.apply(table_.viewer_message(s.peer, proto::Ice{s.id, "", 0}, now_ms));
  soup_message_headers_replace(out, "ETag", s.etag.c_str());
  respond(msg, SOUP_STATUS_NO_CONTENT, "");
}

void Whep::remove(SoupServerMessage *msg, Session &s) {
  metrics_.in("whep", "delete");
  g_message("whep: session %s (camera %s) ended by its player", s.id.c_str(), s.camera.c_str());
  const PeerId peer = s.peer;
  resources_.erase(s.id);
  hub_.apply(table_.viewer_message(peer, proto::Stop{s.id}, g_get_monotonic_time() / 1000));
  end(peer);
  respond(msg, SOUP_STATUS_OK, "");
}

Whep::Session *Whep::by_resource(const std::string &id) {
  auto it = resources_.find(id);
  if (it == resources_.end()) return nullptr;
  auto s = sessions_.find(it->second);
  return s == sessions_.end() ? nullptr : s->second.get();
}

void Whep::end(PeerId peer) {
  auto it = sessions_.find(peer);
  if (it == sessions_.end()) return;
  resources_.erase(it->second->id);
  ending_.push_back(peer);
  // Out of the table's apply that brought the news: the table is told on the next pass.
  if (!reaper_)
    reaper_.reset(after_ms(0, [this] {
      reaper_.release();
      reap();
    }));
}

void Whep::reap() {
  const std::vector<PeerId> ending = std::move(ending_);
  ending_.clear();
  for (PeerId peer : ending) {
    auto it = sessions_.find(peer);
    if (it == sessions_.end()) continue;
    std::unique_ptr<Session> s = std::move(it->second);
    sessions_.erase(it);
    release_post(*s);
    hub_.apply(table_.viewer_gone(peer));
  }
}

}  // namespace sl::relay
