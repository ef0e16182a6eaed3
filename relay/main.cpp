// sightline-relay: serves the web app, lists cameras, and brokers signaling
// between viewers and the agents that dial in.
#include "auth/access.hpp"
#include "auth/device_certificate.hpp"
#include "cluster/cluster_link.hpp"
#include "config.hpp"
#include "control/control_bridge.hpp"
#include "fanout/fanout_workers.hpp"
#include "gobj.hpp"
#include "http/handshake_timeout.hpp"
#include "http/http_routes.hpp"
#include "http/poll_batching.hpp"
#include "http/socket_hub.hpp"
#include "http/socket_leak.hpp"
#include "http/whep.hpp"
#include "logging.hpp"
#include "main_context.hpp"
#include "metrics.hpp"
#include "nat/stun_responder.hpp"
#include "nat/turn.hpp"
#include "sessions/session_table.hpp"
#include "settings.hpp"
#include "tcp.hpp"
#include "token.hpp"

#include <libsoup/soup.h>
#include <sys/random.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

// listen(2) caps the backlog at net.core.somaxconn: asking for the most gets that.
constexpr int kListenBacklog = 65535;

// 128 bits from the kernel's CSPRNG: a session id lets its holder take the
// session back from another socket (an ICE restart after a network change).
std::string random_session_id() {
  guint32 words[4];
  if (getrandom(words, sizeof words, 0) != ssize_t(sizeof words))
    for (auto &w : words) w = g_random_int();  // getrandom(2) does not fail for 16 bytes once booted
  char buf[33];
  for (int i = 0; i < 4; ++i) g_snprintf(buf + i * 8, 9, "%08x", words[i]);
  return std::string(buf, 32);
}

// The session table with the settings' limits, and TURN credentials minted per session.
sl::relay::SessionTable session_table(const sl::relay::RelaySettings &settings) {
  using namespace sl::relay;
  return SessionTable(settings.ice_servers, int64_t(settings.session_timeout_s) * 1000,
                      Limits{size_t(settings.max_sessions_per_socket), size_t(settings.max_sessions_per_camera),
                             size_t(settings.max_pending_sessions), int64_t(settings.session_lifetime_s) * 1000,
                             size_t(settings.max_sessions_per_client), int64_t(settings.session_hold_s) * 1000},
                      random_session_id,
                      [&settings](const std::string &session, int64_t valid_for_s, int64_t not_after_s) {
                        const int64_t now_s = g_get_real_time() / G_USEC_PER_SEC;  // coturn compares with wall time
                        return turn_servers(settings.turn_urls, settings.turn_secret, session,
                                            turn_expiry_s(now_s, valid_for_s, not_after_s));
                      });
}

// `sightline-relay token --role R --ttl SECONDS [--cameras a,b] [--subject NAME]`:
// prints a token signed with the configured secret (settings as for the relay).
int print_token(int argc, char **argv) {
  using namespace sl;
  std::string role = "viewer", cameras, subject;
  long ttl = 3600;
  std::vector<char *> rest{argv[0]};
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sightline-relay token: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      out = argv[++i];
    };
    std::string ttl_text;
    if (a == "--role")
      value(role);
    else if (a == "--cameras")
      value(cameras);
    else if (a == "--subject")
      value(subject);
    else if (a == "--ttl") {
      value(ttl_text);
      ttl = std::strtol(ttl_text.c_str(), nullptr, 10);
    } else
      rest.push_back(argv[i]);
  }
  const auto parsed_role = auth::role_from(role);
  if (!parsed_role || ttl <= 0) {
    std::fprintf(stderr, "sightline-relay token: --role viewer|operator|admin and --ttl SECONDS (> 0)\n");
    return 2;
  }
  const config::Settings loaded =
      config::load_or_exit(
          relay::relay_options(), "relay", "sightline-relay token",
          "Prints an access token: token --role viewer|operator|admin --ttl SECONDS [--cameras a,b] [--subject NAME].",
          SL_VERSION, int(rest.size()), rest.data(), "/etc/sightline/relay.conf")
          .settings;
  const auto secret = relay::token_secret(loaded);
  if (!secret) {
    std::fprintf(stderr, "sightline-relay token: %s\n", secret.error().c_str());
    return 2;
  }
  auth::Claims claims;
  claims.role = *parsed_role;
  claims.subject = subject;
  claims.issued_at_s = g_get_real_time() / G_USEC_PER_SEC;
  claims.expires_at_s = claims.issued_at_s + ttl;
  gchar **ids = g_strsplit(cameras.c_str(), ",", -1);
  for (gchar **id = ids; *id; ++id)
    if (**id) claims.cameras.emplace_back(g_strstrip(*id));
  g_strfreev(ids);
  for (const auto &id : claims.cameras)
    if (!json::valid_camera_id(id)) {
      std::fprintf(stderr, "sightline-relay token: '%s' is not a camera id\n", id.c_str());
      return 2;
    }
  std::printf("%s\n", auth::sign_token(claims, *secret).c_str());
  return 0;
}

// The listening socket, with a backlog for a fleet: after a relay restart every
// agent connects at once, and GSocketListener's default backlog of 10 made most of
// 50 wait for the kernel's 1 s SYN retry. It gets net.core.somaxconn (4096 by
// default), the most the kernel gives; an operator raises that sysctl for more.
sl::Result<sl::Owned<GSocket>> listen_socket(const std::string &host, int port) {
  using namespace sl;
  auto address = adopt(g_inet_socket_address_new_from_string(host.c_str(), guint(port)));
  if (!address) return fail("'" + host + "' is not an IP address");
  GError *raw = nullptr;
  auto socket = adopt(
      g_socket_new(g_socket_address_get_family(address.get()), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &raw));
  Owned<GError> error(raw);
  if (!socket) return fail(error ? error->message : "no socket");
  g_socket_set_listen_backlog(socket.get(), kListenBacklog);
  if (!g_socket_bind(socket.get(), address.get(), TRUE, &raw) || !g_socket_listen(socket.get(), &raw)) {
    error.reset(raw);
    return fail(error ? error->message : "cannot bind");
  }
  return socket;
}

}  // namespace

int main(int argc, char **argv) {
  using namespace sl;
  if (argc > 1 && std::string(argv[1]) == "token") return print_token(argc, argv);
  setup_logging();

  const config::Settings loaded = config::load_or_exit(relay::relay_options(), "relay", "sightline-relay",
                                                       "Serves the Sightline web app and brokers signaling.",
                                                       SL_VERSION, argc, argv, "/etc/sightline/relay.conf")
                                      .settings;
  const relay::RelaySettings settings = config::checked_or_exit(relay::relay_settings(loaded), "sightline-relay");

  // One server: the web app and API over HTTP, signaling over WebSockets.
  auto server = adopt(soup_server_new("server-header", "sightline-relay", nullptr));
  // Every connection, HTTP or WebSocket, sends its small messages at once
  // (common/tcp.hpp), and does not leave its socket behind (http/socket_leak.hpp).
  g_signal_connect(server.get(), "request-started", G_CALLBACK(+[](SoupServer *, SoupServerMessage *msg, gpointer) {
                     GSocket *socket = soup_server_message_get_socket(msg);
                     set_tcp_nodelay(socket);
                     relay::mend_socket_leak(socket);
                   }),
                   nullptr);
  relay::Access access(settings);
  if (!settings.tls_client_revoked.empty()) {
    auto revoked = relay::load_revoked(settings.tls_client_revoked);
    if (!revoked) {
      std::fprintf(stderr, "sightline-relay: %s\n", revoked.error().c_str());
      return 2;
    }
    access.replace_revoked(std::move(*revoked));
  }
  if (access.insecure()) g_warning("insecure-dev: no authentication at all (loopback only)");
  // Who is connected and which session is whose; the sockets and the control plane feed it.
  relay::SessionTable table = session_table(settings);
  // The control plane: camera state in, commands out (answers 'unavailable' without a broker).
  relay::Metrics metrics;
  relay::ControlBridge commands(settings, table, metrics);
  // Several relays on one broker: who holds which agent, signals between relays.
  relay::ClusterLink cluster(settings, table, metrics);
  relay::SocketHub hub(server.get(), settings, access, table, commands, cluster, metrics);
  // WHEP players: virtual viewers of the same table, through the hub.
  relay::Whep whep(server.get(), access, table, hub, metrics);
  // Fan-out: the agents the relay runs to forward a camera's one stream to its viewers.
  relay::FanoutWorkers workers(settings, access.worker_key());
  hub.attach(&workers);
  {
    relay::FanoutPolicy policy = settings.fanout;
    policy.available = workers.available();
    if (!workers.available())
      g_message("fan-out: no sightline-agent to run as a worker (setting 'fanout-agent'): every camera is direct");
    else if (policy.mode != relay::FanoutMode::Direct || !policy.cameras.empty())
      g_message("fan-out: %s (from %d viewers), workers run %s", relay::to_string(policy.mode), policy.viewers,
                workers.agent().c_str());
    table.set_fanout(std::move(policy));
  }
  table.set_sync_delay_ms(settings.sync_delay_ms);
  // GET /metrics: the counters, and the gauges read from their owners at the scrape.
  auto scrape = [&] {
    relay::Gauges g;
    g.agents = table.agent_count();
    g.viewers = table.viewer_count();
    g.cameras = table.camera_count();
    g.cameras_online = table.online_count();
    g.sessions_pending = table.pending_session_count();
    g.sessions_held = table.held_session_count();
    g.sessions_answered = table.session_count() - g.sessions_pending - g.sessions_held;
    g.subscriptions = table.subscription_count();
    g.updates_coalesced = table.coalesced_count();
    g.mqtt_configured = commands.configured();
    g.mqtt_connected = commands.connected();
    g.relays_up = cluster.relays_up();
    g.fanout_workers = workers.running();
    g.sessions_relayed = table.relayed_session_count();
    hub.gauges(g);
    return relay::render(metrics, g);
  };
  relay::HttpRoutes routes(server.get(), settings.web_root, table, commands, access, scrape);
  relay::HandshakeTimeout handshake_timeout(server.get(), guint(settings.handshake_timeout_s));

  // TLS: https:// and wss:// on the same port.
  SoupServerListenOptions listen_options = SoupServerListenOptions(0);
  GError *raw = nullptr;
  if (!settings.tls_cert.empty()) {
    auto certificate =
        adopt(g_tls_certificate_new_from_files(settings.tls_cert.c_str(), settings.tls_key.c_str(), &raw));
    if (!certificate) {
      Owned<GError> error(raw);
      std::fprintf(stderr, "sightline-relay: settings 'tls-cert'/'tls-key': %s\n", error ? error->message : "unusable");
      return 2;
    }
    soup_server_set_tls_certificate(server.get(), certificate.get());
    listen_options = SOUP_SERVER_LISTEN_HTTPS;
    if (!settings.tls_client_ca.empty()) {
      // Devices may show a certificate (browsers are not asked to): checked against this CA.
      auto authorities = adopt(g_tls_file_database_new(settings.tls_client_ca.c_str(), &raw));
      if (!authorities) {
        Owned<GError> error(raw);
        std::fprintf(stderr, "sightline-relay: setting 'tls-client-ca': %s\n", error ? error->message : "unusable");
        return 2;
      }
      soup_server_set_tls_database(server.get(), authorities.get());
      soup_server_set_tls_auth_mode(server.get(), G_TLS_AUTHENTICATION_REQUESTED);
      // Any certificate gets through the handshake: the relay refuses the bad ones
      // itself, with a log line and a 401 naming them (auth/access.cpp).
      g_signal_connect(server.get(), "request-started", G_CALLBACK(+[](SoupServer *, SoupServerMessage *msg, gpointer) {
                         g_signal_connect(msg, "accept-certificate",
                                          G_CALLBACK(+[](SoupServerMessage *, GTlsCertificate *, GTlsCertificateFlags,
                                                         gpointer) -> gboolean { return TRUE; }),
                                          nullptr);
                       }),
                       nullptr);
      g_message("devices may prove who they are with a certificate issued by %s", settings.tls_client_ca.c_str());
    }
  }
  auto listener = listen_socket(settings.listen_host, settings.listen_port);
  if (!listener || !soup_server_listen_socket(server.get(), listener->get(), listen_options, &raw)) {
    Owned<GError> error(raw);
    std::fprintf(stderr, "sightline-relay: cannot listen on %s:%d: %s\n", settings.listen_host.c_str(),
                 settings.listen_port, listener ? (error ? error->message : "refused") : listener.error().c_str());
    return 1;
  }
  g_message("serving %s on %s://%s%s%s:%d/", settings.web_root.c_str(), settings.tls_cert.empty() ? "http" : "https",
            settings.listen_host.find(':') != std::string::npos ? "[" : "", settings.listen_host.c_str(),
            settings.listen_host.find(':') != std::string::npos ? "]" : "", settings.listen_port);

  // The built-in STUN responder, for deployments without coturn.
  relay::StunResponder stun;
  if (!settings.stun_listen_host.empty()) {
    if (auto listening = stun.listen(settings.stun_listen_host, settings.stun_listen_port); !listening) {
      std::fprintf(stderr, "sightline-relay: setting 'stun-listen': %s\n", listening.error().c_str());
      return 2;
    }
    g_message("answering STUN on udp %s:%d", settings.stun_listen_host.c_str(), settings.stun_listen_port);
  }
  // SIGHUP (systemctl reload): the device list again; agents whose entry
  // changed or went away are closed, everyone else goes on.
  std::function<void()> reload = [&] {
    if (access.insecure()) return;
    if (!settings.tls_client_revoked.empty()) {
      if (auto revoked = relay::load_revoked(settings.tls_client_revoked)) {
        g_message("reload: %zu revoked client certificate(s)", revoked->size());
        access.replace_revoked(std::move(*revoked));
        hub.close_certificates(access.revoked());  // connected with a certificate revoked now: out
      } else {
        g_warning("reload: %s Keeping the previous list.", revoked.error().c_str());
      }
    }
    if (settings.device_secrets_file.empty()) return;
    auto devices = relay::load_device_secrets(settings.device_secrets_file);
    if (!devices) {
      g_warning("reload: %s Keeping the previous list.", devices.error().c_str());
      return;
    }
    const size_t count = devices->size();
    hub.close_devices(access.replace_device_secrets(std::move(*devices)));
    g_message("reload: %zu device(s) allowed in", count);
  };
  g_unix_signal_add(
      SIGHUP,
      [](gpointer fn) -> gboolean {
        (*static_cast<std::function<void()> *>(fn))();
        return G_SOURCE_CONTINUE;
      },
      &reload);
  commands.start([&hub](const relay::Actions &actions) { hub.apply(actions); });
  cluster.start([&hub](const relay::Actions &actions) { hub.apply(actions); });
  // Thousands of sockets: each pass of the main loop serves what arrived meanwhile.
  relay::PollBatching{}.install();
  // Stopped within a second whatever it is doing (a fleet's sockets need no goodbye:
  // the agents reconnect to another relay or to this one when it is back).
  run_until_signalled(900);
  g_message("stopping");
  return 0;
}
