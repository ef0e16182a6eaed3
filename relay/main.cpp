// sightline-relay: serves the web app, lists cameras, and brokers signaling
// between viewers and the agents that dial in.
#include "auth/access.hpp"
#include "config.hpp"
#include "control/control_bridge.hpp"
#include "gobj.hpp"
#include "http/handshake_timeout.hpp"
#include "http/http_routes.hpp"
#include "logging.hpp"
#include "main_context.hpp"
#include "settings.hpp"
#include "token.hpp"
#include "http/socket_hub.hpp"
#include "nat/stun_responder.hpp"
#include "tcp.hpp"

#include <libsoup/soup.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

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
    if (a == "--role") value(role);
    else if (a == "--cameras") value(cameras);
    else if (a == "--subject") value(subject);
    else if (a == "--ttl") {
      value(ttl_text);
      ttl = std::strtol(ttl_text.c_str(), nullptr, 10);
    } else rest.push_back(argv[i]);
  }
  const auto parsed_role = auth::role_from(role);
  if (!parsed_role || ttl <= 0) {
    std::fprintf(stderr, "sightline-relay token: --role viewer|operator|admin and --ttl SECONDS (> 0)\n");
    return 2;
  }
  const config::Settings loaded = config::load_or_exit(
      relay::relay_options(), "relay", "sightline-relay token",
      "Prints an access token: token --role viewer|operator|admin --ttl SECONDS [--cameras a,b] [--subject NAME].",
      SL_VERSION, int(rest.size()), rest.data(), "/etc/sightline/relay.conf");
  const auto found = relay::token_secret(loaded);
  if (found.index() == 1) {
    std::fprintf(stderr, "sightline-relay token: %s\n", std::get<1>(found).c_str());
    return 2;
  }
  const std::string secret = std::get<0>(found);
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
    if (!proto::valid_id(id)) {
      std::fprintf(stderr, "sightline-relay token: '%s' is not a camera id\n", id.c_str());
      return 2;
    }
  std::printf("%s\n", auth::sign_token(claims, secret).c_str());
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  using namespace sl;
  if (argc > 1 && std::string(argv[1]) == "token") return print_token(argc, argv);
  setup_logging();

  const config::Settings loaded =
      config::load_or_exit(relay::relay_options(), "relay", "sightline-relay",
                           "Serves the Sightline web app and brokers signaling.", SL_VERSION, argc, argv,
                           "/etc/sightline/relay.conf");
  const relay::RelaySettings settings = config::checked_or_exit(relay::relay_settings(loaded), "sightline-relay");

  // One server: the web app and API over HTTP, signaling over WebSockets.
  auto server = adopt(soup_server_new("server-header", "sightline-relay", nullptr));
  // Signaling messages are small: no compression, so that the message size
  // limit bounds what a peer can make us inflate and hold.
  soup_server_remove_websocket_extension(server.get(), SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  // Every connection, HTTP or WebSocket, sends its small messages at once (common/tcp.hpp).
  g_signal_connect(server.get(), "request-started", G_CALLBACK(+[](SoupServer *, SoupServerMessage *msg, gpointer) {
    set_tcp_nodelay(soup_server_message_get_socket(msg));
  }), nullptr);
  relay::Access access(settings);
  if (access.insecure()) g_warning("insecure-dev: no authentication at all (loopback only)");
  relay::SocketHub hub(server.get(), settings, access);
  // The control plane: camera state in, commands out (answers 'unavailable' without a broker).
  relay::ControlBridge commands(settings, hub.table(), [&hub](const relay::Actions &actions) { hub.apply(actions); });
  hub.set_commands(&commands);
  relay::HttpRoutes routes(server.get(), settings.web_root, hub.table(), commands, access);
  relay::HandshakeTimeout handshake_timeout(server.get(), guint(settings.handshake_timeout_s));

  // TLS: https:// and wss:// on the same port.
  SoupServerListenOptions listen_options = SoupServerListenOptions(0);
  GError *raw = nullptr;
  if (!settings.tls_cert.empty()) {
    auto certificate = adopt(g_tls_certificate_new_from_files(settings.tls_cert.c_str(), settings.tls_key.c_str(), &raw));
    if (!certificate) {
      Owned<GError> error(raw);
      std::fprintf(stderr, "sightline-relay: settings 'tls-cert'/'tls-key': %s\n", error ? error->message : "unusable");
      return 2;
    }
    soup_server_set_tls_certificate(server.get(), certificate.get());
    listen_options = SOUP_SERVER_LISTEN_HTTPS;
  }
  auto address = adopt(g_inet_socket_address_new_from_string(settings.listen_host.c_str(), guint(settings.listen_port)));
  if (!address || !soup_server_listen(server.get(), address.get(), listen_options, &raw)) {
    Owned<GError> error(raw);
    std::fprintf(stderr, "sightline-relay: cannot listen on %s:%d: %s\n", settings.listen_host.c_str(),
                 settings.listen_port, error ? error->message : "bad address");
    return 1;
  }
  g_message("serving %s on %s://%s%s%s:%d/", settings.web_root.c_str(), settings.tls_cert.empty() ? "http" : "https",
            settings.listen_host.find(':') != std::string::npos ? "[" : "", settings.listen_host.c_str(),
            settings.listen_host.find(':') != std::string::npos ? "]" : "", settings.listen_port);

  // The built-in STUN responder, for deployments without coturn.
  relay::StunResponder stun;
  if (!settings.stun_listen_host.empty()) {
    if (auto error = stun.listen(settings.stun_listen_host, settings.stun_listen_port)) {
      std::fprintf(stderr, "sightline-relay: setting 'stun-listen': %s\n", error->c_str());
      return 2;
    }
    g_message("answering STUN on udp %s:%d", settings.stun_listen_host.c_str(), settings.stun_listen_port);
  }
  // SIGHUP (systemctl reload): the device list again; agents whose entry
  // changed or went away are closed, everyone else goes on.
  std::function<void()> reload = [&] {
    if (access.insecure()) return;
    auto devices = relay::load_device_secrets(settings.device_secrets_file);
    if (auto *error = std::get_if<std::string>(&devices)) {
      g_warning("reload: %s Keeping the previous list.", error->c_str());
      return;
    }
    const size_t count = std::get<0>(devices).size();
    hub.close_devices(access.replace_device_secrets(std::move(std::get<0>(devices))));
    g_message("reload: %zu device(s) allowed in", count);
  };
  g_unix_signal_add(SIGHUP, [](gpointer fn) -> gboolean {
    (*static_cast<std::function<void()> *>(fn))();
    return G_SOURCE_CONTINUE;
  }, &reload);
  commands.start();
  run_until_signalled();
  g_message("stopping");
  return 0;
}
