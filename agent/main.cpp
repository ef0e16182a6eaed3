// sightline-agent: captures one camera, encodes it once, and streams it over
// WebRTC to every viewer the relay sends its way.
#include "capture/capture_pipeline.hpp"
#include "capture/devices.hpp"
#include "check.hpp"
#include "config.hpp"
#include "control/camera_keeper.hpp"
#include "control/control_plane.hpp"
#include "gobj.hpp"
#include "logging.hpp"
#include "main_context.hpp"
#include "settings.hpp"
#include "signaling/relay_link.hpp"
#include "signaling/relay_signaller.hpp"
#include "viewers/sessions.hpp"

#include <gst/gst.h>

#include <cstdio>
#include <cstring>

namespace {

constexpr guint kStatusIntervalMs = 2000;

// The first webrtcbin of a process pays ~300 ms for its DTLS certificate; pay it
// at start-up instead of on the first viewer's join. dtlsdec generates the
// process-wide default certificate when it is created and keeps it.
void prepare_dtls_certificate() {
  auto dtls = sl::sink(gst_element_factory_make("dtlsdec", nullptr));
  if (!dtls) g_warning("dtlsdec is missing: install gstreamer1.0-plugins-bad");
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  using namespace sl;
  setup_logging();

  // Two actions besides streaming: list the cameras, or check the settings.
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--list-devices")) {
      std::fputs(agent::describe_cameras(agent::list_cameras()).c_str(), stdout);
      return 0;
    }
    if (!std::strcmp(argv[i], "--check")) {
      check = true;
      for (int j = i; j < argc; ++j) argv[j] = argv[j + 1];  // argv[argc] is null
      --argc;
      --i;
    }
  }

  // Settings: file, then flags.
  const config::Settings loaded = config::load_or_exit(
      agent::agent_options(), "agent", "sightline-agent",
      "Streams a camera to viewers through a Sightline relay.\n"
      "Also: --list-devices (the cameras here, with their formats) and --check (what the agent would use, and\n"
      "whether the relay and the broker accept it; exits 1 with the reasons if not).",
      SL_VERSION, argc, argv, "/etc/sightline/agent.conf");
  const agent::AgentSettings settings = config::checked_or_exit(agent::agent_settings(loaded), "sightline-agent");
  if (check) return agent::run_check(settings);

  // The camera: one pipeline, encoding once.
  auto created = agent::CapturePipeline::create(settings);
  if (!created) {
    std::fprintf(stderr, "sightline-agent: %s\n", created.error().c_str());
    return 1;
  }
  auto pipeline = *std::move(created);
  const auto &camera = pipeline->info();
  g_message("camera %s: %s, %dx%d@%d, %s via %s", camera.id.c_str(), camera.source.c_str(), camera.width, camera.height,
            camera.fps, camera.codec.c_str(), camera.encoder.c_str());
  prepare_dtls_certificate();

  // A client certificate, when the device proves who it is with one (mutual TLS).
  Owned<GTlsCertificate> certificate;
  if (!settings.tls_cert.empty()) {
    GError *raw = nullptr;
    certificate = adopt(g_tls_certificate_new_from_files(settings.tls_cert.c_str(), settings.tls_key.c_str(), &raw));
    Owned<GError> error(raw);
    if (!certificate) {
      std::fprintf(stderr, "sightline-agent: settings 'tls-cert'/'tls-key': %s\n", error ? error->message : "unusable");
      return 2;
    }
  }

  // The viewer sessions, and the relay link that brings their offers.
  agent::Sessions sessions(*pipeline, settings);
  std::unique_ptr<agent::RelaySignaller> relay;
  agent::RelayLink link(settings.relay_urls, proto::Hello{proto::kProtocolVersion, settings.id, {camera}},
                        settings.heartbeat_interval_s, settings.reconnect_max_s,
                        agent::RelayLink::Handlers{
                            [&] { relay->report(sessions.status()); },
                            [&](const proto::RelayToAgent &message) { relay->handle(message); },
                            // The relay brokered these sessions and forgot them when the
                            // link broke; viewers ask again once it is back.
                            [&] { sessions.forget(*relay, "relay_gone"); },
                        },
                        settings.device_secret, settings.ca_file, certificate.get());
  relay = std::make_unique<agent::RelaySignaller>(link, sessions);

  // The camera kept running (retried when it fails), and the control plane
  // (MQTT, when a broker is configured); both hear of every change.
  agent::CameraKeeper keeper(*pipeline, sessions);
  agent::ControlPlane control(settings, *pipeline, sessions, keeper);
  sessions.on_change([&] { relay->report(sessions.status()); });
  sessions.on_change([&control] { control.state_changed(); });

  if (auto started = keeper.start(); !started) {
    std::fprintf(stderr, "sightline-agent: %s\n", started.error().c_str());
    return 1;
  }
  link.start();
  control.start();
  SourceId status_timer(every_ms(kStatusIntervalMs, [&] {
    sessions.measure();
    return true;
  }));
  run_until_signalled();
  g_message("stopping");
  sessions.end_all("agent_stopping");
  control.stop();
  return 0;
}
