// The signaling protocol, defined once: every message exchanged between agents,
// the relay and viewers, with its JSON reading (validated) and writing.
// docs/protocol.md describes the same messages for people and the web app.
#pragma once

#include "control.hpp"
#include "json_io.hpp"
#include "result.hpp"

#include <optional>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sl::proto {

inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kMaxMessageBytes = 64 * 1024;
inline constexpr size_t kMaxSdpBytes = 48 * 1024;
// The most a browser holds video back to play in step (jitterBufferTarget: 4 s).
inline constexpr int kMaxSyncDelayMs = 4000;
using json::kMaxIdLength;

struct IceServer {
  std::vector<std::string> urls;
  std::string username;    // TURN only
  std::string credential;  // TURN only
  bool operator==(const IceServer &) const = default;
};

// What an agent announces about one camera.
struct CameraInfo {
  std::string id;
  int width = 0;
  int height = 0;
  int fps = 0;
  std::string codec;  // "H264" or "VP8"
  std::string source;
  std::string encoder;
  std::string audio;  // "OPUS" when the camera sends sound with its video, "" when none
  bool talk = false;  // its device plays what an operator says (a speaker)
  // The camera's share of its device's uplink (the agent's uplink-kbps): past
  // it, the relay fans the camera out (docs/fanout.md). Optional; 0: not given.
  int uplink_kbps = 0;
  bool operator==(const CameraInfo &) const = default;
};

// One row of the relay's camera list (GET /api/cameras, viewer `cameras`).
struct CameraEntry {
  CameraInfo info;
  bool online = false;     // its agent is connected, or its control-plane state says online
  bool connected = false;  // its agent's WebSocket is connected to this relay: video can be watched
  int viewers = 0;         // sessions the relay brokers for this camera
  int branches = 0;        // live branches as last reported by the agent
  double fps_measured = 0;
  double bitrate_kbps = 0;                    // what the encoder produced, measured
  std::optional<control::CameraState> state;  // the agent's retained MQTT state, when known
  std::string error;             // its agent's word on why it delivers no video (Status::error); empty when it does
  int configured_kbps = 0;       // the configured bitrate (set_video): the ceiling; 0 unknown
  int target_kbps = 0;           // what the encoder is asked for now (less while adapting); 0 unknown
  control::LowerEncoding lower;  // the camera's lower encoding, while one is live
  // Fan-out (docs/fanout.md): "relay" while the relay forwards the camera's one
  // stream to its viewers, "direct" while the camera sends to each viewer.
  std::string fanout = "direct";
  int relay_branches = 0;  // the relay's forwarding branches for it (its fan-out worker's own figure)
  bool operator==(const CameraEntry &) const = default;
};

// ---- messages (the struct name says the JSON `type`, see kTypeName below) ----
struct Heartbeat {
  bool operator==(const Heartbeat &) const = default;
};
struct Error {
  std::string code;
  std::string message;
  std::string session;  // optional
  std::string ref;      // optional
  bool operator==(const Error &) const = default;
};
struct Ice {
  std::string session;
  std::string candidate;  // empty = end of candidates
  int sdp_mline_index = 0;
  bool operator==(const Ice &) const = default;
};
struct SessionEnd {
  std::string session;
  std::string reason;
  bool operator==(const SessionEnd &) const = default;
};
inline constexpr size_t kMaxKeptSessions = 1024;
struct Hello {
  int protocol = kProtocolVersion;
  std::string agent;
  std::vector<CameraInfo> cameras;
  // Sessions the agent kept across a new link to the relay (its old link's local
  // address went away: docs/protocol.md "Renewing a session"): the relay moves them
  // to this link instead of ending them. Optional; at most kMaxKeptSessions.
  std::vector<std::string> sessions;
  bool operator==(const Hello &) const = default;
};
struct AgentWelcome {
  std::vector<IceServer> ice_servers;
  bool operator==(const AgentWelcome &) const = default;
};
struct Offer {
  std::string session;
  std::string camera;
  std::string sdp;
  std::vector<IceServer> ice_servers;
  bool talk = false;  // the viewer may speak through the camera's speaker (operator role)
  // The viewer may forward the stream to viewers of its own (the relay's fan-out
  // worker, or a WHEP client: another agent, a media server): its keyframe requests
  // may be theirs (docs/fanout.md), not one viewer's to limit.
  bool feed = false;
  // A new offer for a session already under way (the viewer's ICE restart,
  // docs/protocol.md "Restarting ICE"): the agent answers it on the same session.
  bool restart = false;
  // With restart: on a new connection (the viewer's new RTCPeerConnection), asked
  // for by the agent's `renew` after its own address changed: the agent answers
  // from a new branch, the session and its id stay (docs/protocol.md).
  bool renew = false;
  bool operator==(const Offer &) const = default;
};
struct Answer {
  std::string session;
  std::string sdp;
  bool operator==(const Answer &) const = default;
};
struct Status {
  std::string camera;
  int branches = 0;
  double fps = 0;
  double bitrate_kbps = 0;  // what the encoder produced, measured
  int width = 0;
  int height = 0;
  // The camera delivers video; false while it has failed or is unplugged (the
  // agent retries). Absent in JSON: true.
  bool capturing = true;
  // Why it delivers no video, while it does not (a sentence naming the device
  // or camera). Optional; written cut to the protocol's text limit.
  std::string error;
  // The configured bitrate (set_video, --bitrate): the ceiling adaptation works
  // under; and what the encoder is asked for now, the configured one or less
  // while it follows its viewers' paths (docs/adaptation.md). Optional in JSON
  // (an older agent sends neither): 0, unknown.
  int configured_kbps = 0;
  int target_kbps = 0;
  // The camera's lower encoding for viewers on thin paths, while one is live.
  control::LowerEncoding lower;
  bool operator==(const Status &) const = default;
};
// Counts over the cameras a token may see.
struct Totals {
  int cameras = 0;
  int online = 0;
  int offline = 0;
  int watched = 0;  // cameras with at least one session
  bool operator==(const Totals &) const = default;
};
inline constexpr size_t kDefaultPageSize = 24;
inline constexpr size_t kMaxSubscription = 200;  // ids, or a query's limit, per socket
// Which part of the camera list: cameras whose id contains `q` (any case), online
// or offline only, from `offset`, at most `limit` (GET /api/cameras and `subscribe`).
struct CameraQuery {
  std::string q;
  std::optional<bool> online;
  size_t offset = 0;
  size_t limit = kDefaultPageSize;
  bool operator==(const CameraQuery &) const = default;
};
// One page of the list: the entries asked for, how many match, and the totals.
struct CameraPage {
  std::vector<CameraEntry> cameras;
  size_t total = 0;
  size_t offset = 0;
  Totals totals;
  bool operator==(const CameraPage &) const = default;
};
struct ViewerWelcome {
  std::vector<IceServer> ice_servers;
  CameraPage page;  // the first page; the socket starts subscribed to it
  // Viewers in step (docs/playback-sync.md): the capture-to-display delay every
  // page that has sync on plays at; 0: not said (an older relay).
  int sync_delay_ms = 0;
  bool operator==(const ViewerWelcome &) const = default;
};
// A page's subscription: the cameras `ids`, or (when `ids` is empty) the `query`'s page.
struct Subscribe {
  std::string ref;  // optional
  std::vector<std::string> ids;
  CameraQuery query;
  bool operator==(const Subscribe &) const = default;
};
struct Cameras {  // the answer to `subscribe`
  std::string ref;
  CameraPage page;
  bool operator==(const Cameras &) const = default;
};
// Entries that changed among those a socket subscribed to.
struct CameraUpdate {  // JSON type "camera_update"
  std::vector<CameraEntry> cameras;
  bool operator==(const CameraUpdate &) const = default;
};
struct TotalsUpdate {  // JSON type "totals"
  Totals totals;
  bool operator==(const TotalsUpdate &) const = default;
};
struct Watch {
  std::string ref;
  std::string camera;
  std::string sdp;
  bool operator==(const Watch &) const = default;
};
struct SessionStarted {  // JSON type "session"
  std::string ref;
  std::string session;
  std::string camera;
  std::vector<IceServer> ice_servers;  // this session's (the agent gets the same)
  bool operator==(const SessionStarted &) const = default;
};
// The viewer's new offer for its session, after its path changed (an ICE
// restart): the relay takes the session over to this socket if another had it
// (the page's socket reconnected), and passes the offer to the agent.
struct Restart {
  std::string session;
  std::string sdp;
  bool renew = false;  // on a new connection, as the agent's `renew` asked
  // The session's camera (optional): a relay that does not know the session (the
  // page reconnected to another relay of the broker) takes it over through the
  // camera's relay (docs/fleet.md).
  std::string camera;
  bool operator==(const Restart &) const = default;
};
// The agent's word that a session's path died on its side (the camera's own
// address changed): the viewer offers again on a new connection (`restart` with
// `renew`), on the same session. Agent -> relay -> viewer.
struct Renew {
  std::string session;
  bool operator==(const Renew &) const = default;
};
struct Stop {
  std::string session;
  bool operator==(const Stop &) const = default;
};
// A control-plane command from a page; the relay answers with CommandResult.
struct CommandRequest {  // JSON type "command"
  std::string ref;
  std::string camera;
  std::string command;        // the command type
  std::string params = "{}";  // JSON object text
  int64_t ttl_ms = 0;         // 0: the relay's command timeout
  bool operator==(const CommandRequest &) const = default;
};
struct CommandResult {  // JSON type "command_result"
  std::string ref;
  std::string camera;
  control::Ack ack;
  bool operator==(const CommandResult &) const = default;
};

// What each end may receive.
using AgentToRelay = std::variant<Heartbeat, Hello, Answer, Ice, SessionEnd, Status, Error, Renew>;
using RelayToAgent = std::variant<Heartbeat, AgentWelcome, Offer, Ice, SessionEnd, Error>;
using ViewerToRelay = std::variant<Heartbeat, Watch, Ice, Stop, CommandRequest, Subscribe, Restart>;
// Between relays sharing one broker (docs/fleet.md): a session whose viewer is on
// one relay and whose agent is on another.
using RelayToRelay = std::variant<Offer, Answer, Ice, SessionEnd, Renew>;
struct ClusterSignal {
  std::string from;  // the sending relay's id
  RelayToRelay message;
};
using RelayToViewer = std::variant<Heartbeat, ViewerWelcome, Cameras, CameraUpdate, TotalsUpdate, SessionStarted,
                                   Answer, Ice, SessionEnd, Error, CommandResult, Renew>;

// Why a message was refused: `code` is one of the protocol's error codes
// (bad_message, unknown_type, too_large), `message` names the field.
struct ParseError {
  std::string code;
  std::string message;
  // The refused message's own `ref` and `session` when they are well-formed ids:
  // echoed in the error, so the sender can tell which of its requests failed.
  std::string ref;
  std::string session;
  bool operator==(const ParseError &) const = default;
};

template <typename T>
using Parsed = Result<T, ParseError>;

Parsed<AgentToRelay> parse_agent_to_relay(std::string_view text);
Parsed<RelayToAgent> parse_relay_to_agent(std::string_view text);
Parsed<ViewerToRelay> parse_viewer_to_relay(std::string_view text);
Parsed<RelayToViewer> parse_relay_to_viewer(std::string_view text);
Parsed<ClusterSignal> parse_cluster_signal(std::string_view text);
std::string to_json(const ClusterSignal &m);

std::string to_json(const Heartbeat &);
std::string to_json(const Error &);
std::string to_json(const Ice &);
std::string to_json(const SessionEnd &);
std::string to_json(const Hello &);
std::string to_json(const AgentWelcome &);
std::string to_json(const Offer &);
std::string to_json(const Answer &);
std::string to_json(const Status &);
std::string to_json(const ViewerWelcome &);
std::string to_json(const Cameras &);
std::string to_json(const Subscribe &);
std::string to_json(const CameraUpdate &);
std::string to_json(const TotalsUpdate &);
std::string to_json(const Watch &);
std::string to_json(const SessionStarted &);
std::string to_json(const Stop &);
std::string to_json(const Restart &);
std::string to_json(const Renew &);
std::string to_json(const CommandRequest &);
std::string to_json(const CommandResult &);
template <typename... Ts>
std::string to_json(const std::variant<Ts...> &v) {
  return std::visit([](const auto &m) { return to_json(m); }, v);
}

// GET /api/cameras: {"cameras": [...], "total", "offset", "limit", "totals"}.
std::string page_to_json(const CameraPage &page, size_t limit);
// The JSON type name of a message ("welcome", "camera_update", ...), for counting.
const char *type_of(const AgentToRelay &m);
const char *type_of(const RelayToAgent &m);
const char *type_of(const ViewerToRelay &m);
const char *type_of(const RelayToViewer &m);
const char *type_of(const RelayToRelay &m);

using json::valid_id;

}  // namespace sl::proto
