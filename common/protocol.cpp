// JSON reading (with validation) and writing for every protocol message.
#include "protocol.hpp"

#include "gobj.hpp"
#include "json_io.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>

namespace sl::proto {
namespace {

using json::Reader;
using json::Writer;

constexpr size_t kMaxText = 1024;
constexpr size_t kMaxCandidate = 1024;
constexpr size_t kMaxCameras = 256;
constexpr size_t kMaxIceServers = 16;
constexpr int kMaxDimension = 8192;
constexpr long kMaxKbps = 10'000'000;

// An optional whole kbit/s figure: absent (an older agent's) is 0, unknown.
int read_kbps(Reader &r, const char *name) {
  return json_object_has_member(r.object(), name) ? int(r.integer(name, 0, kMaxKbps)) : 0;
}

IceServer read_ice_server(Reader &r) {
  IceServer s;
  s.urls = r.strings("urls", 8, 512);
  if (r.ok() && s.urls.empty()) r.fail("urls", "must not be empty");
  s.username = r.str("username", 512, false);
  s.credential = r.str("credential", 512, false);
  return s;
}

std::vector<IceServer> read_ice_servers(Reader &r) {
  std::vector<IceServer> out;
  r.objects("ice_servers", kMaxIceServers, [&](Reader &item) { out.push_back(read_ice_server(item)); });
  return out;
}

CameraInfo read_camera_info(Reader &r) {
  CameraInfo c;
  c.id = r.camera("id");
  c.width = int(r.integer("width", 0, kMaxDimension));
  c.height = int(r.integer("height", 0, kMaxDimension));
  c.fps = int(r.integer("fps", 0, 1000));
  c.codec = r.str("codec", 16);
  c.source = r.str("source", 256);
  c.encoder = r.str("encoder", 64);
  c.audio = r.str("audio", 16, false);
  if (json_object_has_member(r.object(), "talk")) c.talk = r.boolean("talk");
  if (json_object_has_member(r.object(), "uplink_kbps")) c.uplink_kbps = int(r.integer("uplink_kbps", 0, 10000000));
  return c;
}

// An optional member holding an object that another reader parses from text.
std::optional<control::CameraState> read_state_member(Reader &r, const char *name) {
  JsonNode *n = json_object_get_member(r.object(), name);
  if (!n || JSON_NODE_HOLDS_NULL(n)) return std::nullopt;
  auto state = control::parse_state(take_string(json_to_string(n, FALSE)));
  if (!state) {
    r.fail(name, state.error());
    return std::nullopt;
  }
  return *state;
}

CameraEntry read_camera_entry(Reader &r) {
  CameraEntry e;
  e.info = read_camera_info(r);
  e.online = r.boolean("online");
  e.connected = r.boolean("connected");
  e.viewers = int(r.integer("viewers", 0, 1 << 20));
  e.branches = int(r.integer("branches", 0, 1 << 20));
  e.fps_measured = r.number("fps_measured", 0, 1000);
  e.bitrate_kbps = r.number("bitrate_kbps", 0, 1e7);
  e.configured_kbps = read_kbps(r, "configured_kbps");
  e.target_kbps = read_kbps(r, "target_kbps");
  e.lower = control::read_lower_encoding(r);
  if (json_object_has_member(r.object(), "fanout")) e.fanout = r.str("fanout", 16);
  if (json_object_has_member(r.object(), "relay_branches"))
    e.relay_branches = int(r.integer("relay_branches", 0, 1 << 20));
  e.error = r.str("error", kMaxText, false);
  e.state = read_state_member(r, "state");
  return e;
}

std::vector<CameraEntry> read_camera_entries(Reader &r) {
  std::vector<CameraEntry> out;
  r.objects("cameras", kMaxCameras * 16, [&](Reader &item) { out.push_back(read_camera_entry(item)); });
  return out;
}

// One reader per message type; a Variant lists which types an end accepts.
Heartbeat read(Reader &, std::type_identity<Heartbeat>) { return {}; }
Error read(Reader &r, std::type_identity<Error>) {
  Error e;
  e.code = r.str("code", 64);
  e.message = r.str("message", kMaxText);
  e.session = r.str("session", kMaxIdLength, false);
  e.ref = r.str("ref", kMaxIdLength, false);
  return e;
}
Ice read(Reader &r, std::type_identity<Ice>) {
  Ice m;
  m.session = r.id("session");
  m.candidate = r.str("candidate", kMaxCandidate);
  m.sdp_mline_index = int(r.integer("sdp_mline_index", 0, 63));
  return m;
}
SessionEnd read(Reader &r, std::type_identity<SessionEnd>) {
  SessionEnd m;
  m.session = r.id("session");
  m.reason = r.str("reason", 64);
  return m;
}
Hello read(Reader &r, std::type_identity<Hello>) {
  Hello m;
  m.protocol = int(r.integer("protocol", 1, 1000));
  if (r.ok() && m.protocol != kProtocolVersion)
    r.fail("protocol", "version " + std::to_string(m.protocol) + " is not supported (this relay speaks " +
                           std::to_string(kProtocolVersion) + ")");
  m.agent = r.id("agent");
  r.objects("cameras", kMaxCameras, [&](Reader &item) { m.cameras.push_back(read_camera_info(item)); });
  if (json_object_has_member(r.object(), "sessions")) {
    m.sessions = r.strings("sessions", kMaxKeptSessions, kMaxIdLength);
    for (const auto &id : m.sessions)
      if (r.ok() && !json::valid_id(id)) r.fail("sessions", "'" + id + "' is not a session id");
  }
  return m;
}
AgentWelcome read(Reader &r, std::type_identity<AgentWelcome>) { return {read_ice_servers(r)}; }
Offer read(Reader &r, std::type_identity<Offer>) {
  Offer m;
  m.session = r.id("session");
  m.camera = r.camera("camera");
  m.sdp = r.str("sdp", kMaxSdpBytes);
  m.ice_servers = read_ice_servers(r);
  if (json_object_has_member(r.object(), "talk")) m.talk = r.boolean("talk");
  if (json_object_has_member(r.object(), "feed")) m.feed = r.boolean("feed");
  if (json_object_has_member(r.object(), "restart")) m.restart = r.boolean("restart");
  if (json_object_has_member(r.object(), "renew")) m.renew = r.boolean("renew");
  if (m.renew && !m.restart) r.fail("renew", "only with restart");
  return m;
}
Answer read(Reader &r, std::type_identity<Answer>) {
  Answer m;
  m.session = r.id("session");
  m.sdp = r.str("sdp", kMaxSdpBytes);
  return m;
}
Status read(Reader &r, std::type_identity<Status>) {
  Status m;
  m.camera = r.camera("camera");
  m.branches = int(r.integer("branches", 0, 1 << 20));
  m.fps = r.number("fps", 0, 1000);
  m.bitrate_kbps = r.number("bitrate_kbps", 0, 1e7);
  m.width = int(r.integer("width", 0, kMaxDimension));
  m.height = int(r.integer("height", 0, kMaxDimension));
  m.configured_kbps = read_kbps(r, "configured_kbps");
  m.target_kbps = read_kbps(r, "target_kbps");
  m.lower = control::read_lower_encoding(r);
  m.capturing = r.boolean("capturing", true);
  m.error = r.str("error", kMaxText, false);
  return m;
}
Totals read_totals(Reader &r) {
  Totals t;
  JsonNode *n = json_object_get_member(r.object(), "totals");
  if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
    r.fail("totals", "must be an object");
    return t;
  }
  Reader in(json_node_get_object(n), "totals.");
  t.cameras = int(in.integer("cameras", 0, INT32_MAX));
  t.online = int(in.integer("online", 0, INT32_MAX));
  t.offline = int(in.integer("offline", 0, INT32_MAX));
  t.watched = int(in.integer("watched", 0, INT32_MAX));
  if (!in.ok()) r.fail("totals", in.error());
  return t;
}
CameraPage read_page(Reader &r) {
  CameraPage p;
  p.cameras = read_camera_entries(r);
  p.total = size_t(r.integer("total", 0, INT32_MAX));
  p.offset = size_t(r.integer("offset", 0, INT32_MAX));
  p.totals = read_totals(r);
  return p;
}
ViewerWelcome read(Reader &r, std::type_identity<ViewerWelcome>) {
  ViewerWelcome m;
  m.ice_servers = read_ice_servers(r);
  m.page = read_page(r);
  if (json_object_has_member(r.object(), "sync_delay_ms"))
    m.sync_delay_ms = int(r.integer("sync_delay_ms", 0, kMaxSyncDelayMs));
  return m;
}
Cameras read(Reader &r, std::type_identity<Cameras>) {
  Cameras m;
  m.ref = r.str("ref", kMaxIdLength, false);
  m.page = read_page(r);
  return m;
}
CameraUpdate read(Reader &r, std::type_identity<CameraUpdate>) { return {read_camera_entries(r)}; }
TotalsUpdate read(Reader &r, std::type_identity<TotalsUpdate>) { return {read_totals(r)}; }
Subscribe read(Reader &r, std::type_identity<Subscribe>) {
  Subscribe m;
  m.ref = r.str("ref", kMaxIdLength, false);
  // Any number the message's size allows: the relay says what is over its limit.
  if (json_object_has_member(r.object(), "ids")) {
    m.ids = r.strings("ids", kMaxMessageBytes / 3, json::kMaxCameraIdLength);
    for (const auto &id : m.ids)
      if (r.ok() && !json::valid_camera_id(id)) r.fail("ids", "'" + id + "' is not a camera id");
    if (r.ok() && m.ids.empty()) r.fail("ids", "must not be empty (leave it out to subscribe to a query)");
  }
  m.query.q = r.str("q", json::kMaxCameraIdLength, false);
  if (json_object_has_member(r.object(), "online")) m.query.online = r.boolean("online");
  if (json_object_has_member(r.object(), "offset")) m.query.offset = size_t(r.integer("offset", 0, INT32_MAX));
  if (json_object_has_member(r.object(), "limit")) m.query.limit = size_t(r.integer("limit", 1, INT32_MAX));
  if (!m.ids.empty()) m.query = CameraQuery{};  // ids say what is shown: a query beside them means nothing
  return m;
}
Watch read(Reader &r, std::type_identity<Watch>) {
  Watch m;
  m.ref = r.id("ref");
  m.camera = r.camera("camera");
  m.sdp = r.str("sdp", kMaxSdpBytes);
  return m;
}
SessionStarted read(Reader &r, std::type_identity<SessionStarted>) {
  SessionStarted m;
  m.ref = r.id("ref");
  m.session = r.id("session");
  m.camera = r.camera("camera");
  if (json_object_has_member(r.object(), "ice_servers")) m.ice_servers = read_ice_servers(r);
  return m;
}
Stop read(Reader &r, std::type_identity<Stop>) { return {r.id("session")}; }
Restart read(Reader &r, std::type_identity<Restart>) {
  Restart m;
  m.session = r.id("session");
  m.sdp = r.str("sdp", kMaxSdpBytes);
  if (json_object_has_member(r.object(), "renew")) m.renew = r.boolean("renew");
  if (json_object_has_member(r.object(), "camera")) m.camera = r.camera("camera");
  return m;
}
Renew read(Reader &r, std::type_identity<Renew>) { return {r.id("session")}; }
CommandRequest read(Reader &r, std::type_identity<CommandRequest>) {
  CommandRequest m;
  m.ref = r.id("ref");
  m.camera = r.camera("camera");
  m.command = r.str("command", 64);
  JsonNode *params = json_object_get_member(r.object(), "params");
  if (params && !JSON_NODE_HOLDS_NULL(params)) {
    if (!JSON_NODE_HOLDS_OBJECT(params))
      r.fail("params", "must be an object");
    else if (auto text = json::node_text(params))
      m.params = *text;
    else
      r.fail("params", "has a number out of range");
  }
  if (json_object_has_member(r.object(), "ttl_ms")) m.ttl_ms = r.integer("ttl_ms", 1, control::kMaxTtlMs);
  return m;
}
CommandResult read(Reader &r, std::type_identity<CommandResult>) {
  CommandResult m;
  m.ref = r.id("ref");
  m.camera = r.camera("camera");
  JsonNode *ack = json_object_get_member(r.object(), "ack");
  if (!ack || !JSON_NODE_HOLDS_OBJECT(ack)) {
    r.fail("ack", "must be an object");
    return m;
  }
  auto parsed = control::parse_ack(take_string(json_to_string(ack, FALSE)));
  if (!parsed)
    r.fail("ack", parsed.error());
  else
    m.ack = *parsed;
  return m;
}

template <typename T>
constexpr const char *type_name();
template <>
constexpr const char *type_name<Heartbeat>() {
  return "heartbeat";
}
template <>
constexpr const char *type_name<Error>() {
  return "error";
}
template <>
constexpr const char *type_name<Ice>() {
  return "ice";
}
template <>
constexpr const char *type_name<SessionEnd>() {
  return "session_end";
}
template <>
constexpr const char *type_name<Hello>() {
  return "hello";
}
template <>
constexpr const char *type_name<AgentWelcome>() {
  return "welcome";
}
template <>
constexpr const char *type_name<Offer>() {
  return "offer";
}
template <>
constexpr const char *type_name<Answer>() {
  return "answer";
}
template <>
constexpr const char *type_name<Status>() {
  return "status";
}
template <>
constexpr const char *type_name<ViewerWelcome>() {
  return "welcome";
}
template <>
constexpr const char *type_name<Cameras>() {
  return "cameras";
}
template <>
constexpr const char *type_name<CameraUpdate>() {
  return "camera_update";
}
template <>
constexpr const char *type_name<TotalsUpdate>() {
  return "totals";
}
template <>
constexpr const char *type_name<Subscribe>() {
  return "subscribe";
}
template <>
constexpr const char *type_name<Watch>() {
  return "watch";
}
template <>
constexpr const char *type_name<SessionStarted>() {
  return "session";
}
template <>
constexpr const char *type_name<Stop>() {
  return "stop";
}
template <>
constexpr const char *type_name<Restart>() {
  return "restart";
}
template <>
constexpr const char *type_name<Renew>() {
  return "renew";
}
template <>
constexpr const char *type_name<CommandRequest>() {
  return "command";
}
template <>
constexpr const char *type_name<CommandResult>() {
  return "command_result";
}

// A member that a refusal may quote back: a string that is a well-formed id, or "".
std::string echoable_id(JsonObject *obj, const char *name) {
  JsonNode *n = json_object_get_member(obj, name);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) return {};
  const char *text = json_node_get_string(n);
  return text && json::valid_id(text) ? std::string(text) : std::string();
}

template <typename V>
struct Dispatch;
template <typename... Ts>
struct Dispatch<std::variant<Ts...>> {
  static Parsed<std::variant<Ts...>> parse(std::string_view text) {
    using V = std::variant<Ts...>;
    if (text.size() > kMaxMessageBytes)
      return fail(ParseError{"too_large", "message is larger than " + std::to_string(kMaxMessageBytes) + " bytes"});
    auto root = json::parse_object(text);
    if (!root) return fail(ParseError{"bad_message", root.error()});
    JsonObject *obj = json_node_get_object(root->get());
    const std::string ref = echoable_id(obj, "ref"), session = echoable_id(obj, "session");
    Reader top(obj);
    std::string type = top.str("type", 64);
    if (!top.ok()) return fail(ParseError{"bad_message", top.error(), ref, session});

    std::optional<Parsed<V>> result;
    auto try_one = [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (result || type != type_name<T>()) return;
      Reader r(obj);
      T msg = read(r, std::type_identity<T>{});
      if (r.ok())
        result = Parsed<V>(V(std::move(msg)));
      else
        result = Parsed<V>(fail(ParseError{"bad_message", type + ": " + r.error(), ref, session}));
    };
    (try_one(std::type_identity<Ts>{}), ...);
    if (!result) return fail(ParseError{"unknown_type", "unknown message type '" + type + "'", ref, session});
    return std::move(*result);
  }
};

void add_camera_fields(JsonBuilder *b, const CameraInfo &c) {
  auto s = [&](const char *k, const std::string &v) {
    json_builder_set_member_name(b, k);
    json_builder_add_string_value(b, v.c_str());
  };
  auto i = [&](const char *k, long v) {
    json_builder_set_member_name(b, k);
    json_builder_add_int_value(b, v);
  };
  s("id", c.id);
  i("width", c.width);
  i("height", c.height);
  i("fps", c.fps);
  s("codec", c.codec);
  s("source", c.source);
  s("encoder", c.encoder);
  if (!c.audio.empty()) s("audio", c.audio);
  if (c.talk) {
    json_builder_set_member_name(b, "talk");
    json_builder_add_boolean_value(b, TRUE);
  }
  if (c.uplink_kbps) i("uplink_kbps", c.uplink_kbps);
}

void add_camera_entries(JsonBuilder *b, const std::vector<CameraEntry> &cameras) {
  json_builder_begin_array(b);
  for (const auto &e : cameras) {
    json_builder_begin_object(b);
    add_camera_fields(b, e.info);
    json_builder_set_member_name(b, "online");
    json_builder_add_boolean_value(b, e.online);
    json_builder_set_member_name(b, "connected");
    json_builder_add_boolean_value(b, e.connected);
    json_builder_set_member_name(b, "viewers");
    json_builder_add_int_value(b, e.viewers);
    json_builder_set_member_name(b, "branches");
    json_builder_add_int_value(b, e.branches);
    json_builder_set_member_name(b, "fps_measured");
    json_builder_add_double_value(b, e.fps_measured);
    json_builder_set_member_name(b, "bitrate_kbps");
    json_builder_add_double_value(b, e.bitrate_kbps);
    json_builder_set_member_name(b, "configured_kbps");
    json_builder_add_int_value(b, e.configured_kbps);
    json_builder_set_member_name(b, "target_kbps");
    json_builder_add_int_value(b, e.target_kbps);
    control::add_lower_encoding(b, e.lower);
    json_builder_set_member_name(b, "fanout");
    json_builder_add_string_value(b, e.fanout.c_str());
    json_builder_set_member_name(b, "relay_branches");
    json_builder_add_int_value(b, e.relay_branches);
    if (!e.error.empty()) {
      json_builder_set_member_name(b, "error");
      json_builder_add_string_value(b, e.error.c_str());
    }
    if (e.state) json::add_object_text(b, "state", control::to_json(*e.state));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

void add_totals(Writer &w, const Totals &totals) {
  JsonBuilder *b = w.raw();
  json_builder_set_member_name(b, "totals");
  json_builder_begin_object(b);
  for (auto [name, value] : {std::pair{"cameras", totals.cameras}, std::pair{"online", totals.online},
                             std::pair{"offline", totals.offline}, std::pair{"watched", totals.watched}}) {
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
  }
  json_builder_end_object(b);
}

void add_page(Writer &w, const CameraPage &page) {
  json_builder_set_member_name(w.raw(), "cameras");
  add_camera_entries(w.raw(), page.cameras);
  w.integer("total", long(page.total)).integer("offset", long(page.offset));
  add_totals(w, page.totals);
}

void add_ice_servers(Writer &w, const std::vector<IceServer> &servers) {
  JsonBuilder *b = w.raw();
  json_builder_set_member_name(b, "ice_servers");
  json_builder_begin_array(b);
  for (const auto &s : servers) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "urls");
    json_builder_begin_array(b);
    for (const auto &u : s.urls) json_builder_add_string_value(b, u.c_str());
    json_builder_end_array(b);
    if (!s.username.empty()) {
      json_builder_set_member_name(b, "username");
      json_builder_add_string_value(b, s.username.c_str());
    }
    if (!s.credential.empty()) {
      json_builder_set_member_name(b, "credential");
      json_builder_add_string_value(b, s.credential.c_str());
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

}  // namespace

Parsed<AgentToRelay> parse_agent_to_relay(std::string_view t) { return Dispatch<AgentToRelay>::parse(t); }
Parsed<RelayToAgent> parse_relay_to_agent(std::string_view t) { return Dispatch<RelayToAgent>::parse(t); }
Parsed<ViewerToRelay> parse_viewer_to_relay(std::string_view t) { return Dispatch<ViewerToRelay>::parse(t); }
Parsed<RelayToViewer> parse_relay_to_viewer(std::string_view t) { return Dispatch<RelayToViewer>::parse(t); }

// {"type": ..., "from": "relay-b", ...the message's members}
Parsed<ClusterSignal> parse_cluster_signal(std::string_view t) {
  auto message = Dispatch<RelayToRelay>::parse(t);
  if (!message) return fail(message.error());
  auto root = json::parse_object(t);  // parsed once more for "from": signals are few
  Reader r(json_node_get_object(root->get()));
  std::string from = r.id("from");
  if (!r.ok()) return fail(ParseError{"bad_message", r.error()});
  return ClusterSignal{std::move(from), std::move(*message)};
}

std::string to_json(const ClusterSignal &m) {
  auto root = json::parse_object(to_json(m.message));
  json_object_set_string_member(json_node_get_object(root->get()), "from", m.from.c_str());
  return take_string(json_to_string(root->get(), FALSE));
}

std::string to_json(const Heartbeat &) { return Writer(type_name<Heartbeat>()).done(); }
std::string to_json(const Error &m) {
  return Writer(type_name<Error>())
      .str("code", m.code)
      .str("message", m.message)
      .opt_str("session", m.session)
      .opt_str("ref", m.ref)
      .done();
}
std::string to_json(const Ice &m) {
  return Writer(type_name<Ice>())
      .str("session", m.session)
      .str("candidate", m.candidate)
      .integer("sdp_mline_index", m.sdp_mline_index)
      .done();
}
std::string to_json(const SessionEnd &m) {
  return Writer(type_name<SessionEnd>()).str("session", m.session).str("reason", m.reason).done();
}
std::string to_json(const Hello &m) {
  Writer w(type_name<Hello>());
  w.integer("protocol", m.protocol).str("agent", m.agent);
  JsonBuilder *b = w.raw();
  json_builder_set_member_name(b, "cameras");
  json_builder_begin_array(b);
  for (const auto &c : m.cameras) {
    json_builder_begin_object(b);
    add_camera_fields(b, c);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  return w.opt_strings("sessions", m.sessions).done();
}
std::string to_json(const AgentWelcome &m) {
  Writer w(type_name<AgentWelcome>());
  add_ice_servers(w, m.ice_servers);
  return w.done();
}
std::string to_json(const Offer &m) {
  Writer w(type_name<Offer>());
  w.str("session", m.session).str("camera", m.camera).str("sdp", m.sdp);
  add_ice_servers(w, m.ice_servers);
  if (m.talk) w.boolean("talk", true);
  if (m.feed) w.boolean("feed", true);
  if (m.restart) w.boolean("restart", true);
  if (m.renew) w.boolean("renew", true);
  return w.done();
}
std::string to_json(const Answer &m) {
  return Writer(type_name<Answer>()).str("session", m.session).str("sdp", m.sdp).done();
}
std::string to_json(const Status &m) {
  Writer w(type_name<Status>());
  w.str("camera", m.camera)
      .integer("branches", m.branches)
      .number("fps", m.fps)
      .number("bitrate_kbps", m.bitrate_kbps)
      .integer("width", m.width)
      .integer("height", m.height)
      .integer("configured_kbps", m.configured_kbps)
      .integer("target_kbps", m.target_kbps);
  control::add_lower_encoding(w.raw(), m.lower);
  return w.boolean("capturing", m.capturing).opt_str("error", json::within(m.error, kMaxText)).done();
}
std::string to_json(const ViewerWelcome &m) {
  Writer w(type_name<ViewerWelcome>());
  add_ice_servers(w, m.ice_servers);
  add_page(w, m.page);
  if (m.sync_delay_ms) w.integer("sync_delay_ms", m.sync_delay_ms);
  return w.done();
}
std::string to_json(const Cameras &m) {
  Writer w(type_name<Cameras>());
  w.opt_str("ref", m.ref);
  add_page(w, m.page);
  return w.done();
}
std::string to_json(const CameraUpdate &m) {
  Writer w(type_name<CameraUpdate>());
  json_builder_set_member_name(w.raw(), "cameras");
  add_camera_entries(w.raw(), m.cameras);
  return w.done();
}
std::string to_json(const TotalsUpdate &m) {
  Writer w(type_name<TotalsUpdate>());
  add_totals(w, m.totals);
  return w.done();
}
std::string to_json(const Subscribe &m) {
  Writer w(type_name<Subscribe>());
  w.opt_str("ref", m.ref);
  if (!m.ids.empty()) return w.opt_strings("ids", m.ids).done();
  w.opt_str("q", m.query.q);
  if (m.query.online) w.boolean("online", *m.query.online);
  return w.integer("offset", long(m.query.offset)).integer("limit", long(m.query.limit)).done();
}
std::string to_json(const Watch &m) {
  return Writer(type_name<Watch>()).str("ref", m.ref).str("camera", m.camera).str("sdp", m.sdp).done();
}
std::string to_json(const SessionStarted &m) {
  Writer w(type_name<SessionStarted>());
  w.str("ref", m.ref).str("session", m.session).str("camera", m.camera);
  add_ice_servers(w, m.ice_servers);
  return w.done();
}
std::string to_json(const Stop &m) { return Writer(type_name<Stop>()).str("session", m.session).done(); }
std::string to_json(const Restart &m) {
  Writer w(type_name<Restart>());
  w.str("session", m.session).str("sdp", m.sdp);
  if (m.renew) w.boolean("renew", true);
  return w.opt_str("camera", m.camera).done();
}
std::string to_json(const Renew &m) { return Writer(type_name<Renew>()).str("session", m.session).done(); }
std::string to_json(const CommandRequest &m) {
  Writer w(type_name<CommandRequest>());
  w.str("ref", m.ref).str("camera", m.camera).str("command", m.command);
  json::add_object_text(w.raw(), "params", m.params);
  if (m.ttl_ms) w.integer("ttl_ms", long(m.ttl_ms));
  return w.done();
}
std::string to_json(const CommandResult &m) {
  Writer w(type_name<CommandResult>());
  w.str("ref", m.ref).str("camera", m.camera);
  json::add_object_text(w.raw(), "ack", control::to_json(m.ack));
  return w.done();
}

std::string page_to_json(const CameraPage &page, size_t limit) {
  Writer w;
  add_page(w, page);
  return w.integer("limit", long(limit)).done();
}

namespace {
template <typename V>
const char *name_of(const V &v) {
  return std::visit([](const auto &m) { return type_name<std::decay_t<decltype(m)>>(); }, v);
}
}  // namespace
const char *type_of(const AgentToRelay &m) { return name_of(m); }
const char *type_of(const RelayToAgent &m) { return name_of(m); }
const char *type_of(const ViewerToRelay &m) { return name_of(m); }
const char *type_of(const RelayToViewer &m) { return name_of(m); }
const char *type_of(const RelayToRelay &m) { return name_of(m); }

}  // namespace sl::proto
