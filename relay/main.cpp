// sightline-relay: serves the web app, lists cameras, and brokers signaling
// between viewers and the agents that dial in.
#include "config.hpp"
#include "control_bridge.hpp"
#include "gobj.hpp"
#include "http_routes.hpp"
#include "logging.hpp"
#include "main_context.hpp"
#include "settings.hpp"
#include "socket_hub.hpp"

#include <libsoup/soup.h>

#include <cstdio>

int main(int argc, char **argv) {
  using namespace sl;
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
  relay::SocketHub hub(server.get(), settings);
  // The control plane: camera state in, commands out (answers 'unavailable' without a broker).
  relay::ControlBridge commands(settings, hub.table(), [&hub](const relay::Actions &actions) { hub.apply(actions); });
  hub.set_commands(&commands);
  relay::HttpRoutes routes(server.get(), settings.web_root, hub.table(), commands);

  auto address = adopt(g_inet_socket_address_new_from_string(settings.listen_host.c_str(), guint(settings.listen_port)));
  GError *raw = nullptr;
  if (!address || !soup_server_listen(server.get(), address.get(), SoupServerListenOptions(0), &raw)) {
    Owned<GError> error(raw);
    std::fprintf(stderr, "sightline-relay: cannot listen on %s:%d: %s\n", settings.listen_host.c_str(),
                 settings.listen_port, error ? error->message : "bad address");
    return 1;
  }
  g_message("serving %s on http://%s%s%s:%d/", settings.web_root.c_str(),
            settings.listen_host.find(':') != std::string::npos ? "[" : "", settings.listen_host.c_str(),
            settings.listen_host.find(':') != std::string::npos ? "]" : "", settings.listen_port);

  commands.start();
  run_until_signalled();
  g_message("stopping");
  return 0;
}
