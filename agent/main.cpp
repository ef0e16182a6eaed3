// sightline-agent: captures its cameras (one, or one per [camera NAME] group),
// encodes each once, and streams them over WebRTC to every viewer the relay
// sends their way: one relay link and one MQTT session for all of them.
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
#include "viewers/address_watch.hpp"
#include "viewers/sessions.hpp"

#include <gst/gst.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace {

constexpr guint kStatusIntervalMs = 2000;

// The first webrtcbin of a process pays ~300 ms for its DTLS certificate; pay it
// at start-up instead of on the first viewer's join. dtlsdec generates the
// process-wide default certificate when it is created and keeps it.
void prepare_dtls_certificate() {
  auto dtls = sl::sink(gst_element_factory_make("dtlsdec", nullptr));
  if (!dtls) g_warning("dtlsdec is missing: install gstreamer1.0-plugins-bad");
}

// One camera: its pipeline, its viewers' sessions, what keeps it running.
struct Camera {
  std::unique_ptr<sl::agent::CapturePipeline> pipeline;
  std::unique_ptr<sl::agent::Sessions> sessions;
  std::unique_ptr<sl::agent::CameraKeeper> keeper;
};

// What the relay hears of a camera: its sessions and figures, and why it
// delivers no video while it does not (the relay lists the camera with it).
sl::proto::Status status_of(const Camera &camera) {
  sl::proto::Status status = camera.sessions->status();
  if (!status.capturing && camera.keeper) status.error = camera.keeper->error();
  return status;
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

  // Settings: file, then flags; a [camera NAME] group per camera.
  const config::Loaded loaded = config::load_or_exit(
      agent::agent_options(), "agent", "sightline-agent",
      "Streams cameras to viewers through a Sightline relay.\n"
      "Also: --list-devices (the cameras here, with their formats) and --check (what the agent would use, and\n"
      "whether the relay and the broker accept it; exits 1 with the reasons if not).\n"
      "Several cameras: one [camera NAME] group each in the config file (source, size, rate, bitrate, encoder).",
      SL_VERSION, argc, argv, "/etc/sightline/agent.conf", agent::camera_sections());
  const agent::AgentSettings settings =
      config::checked_or_exit(agent::agent_settings(loaded.settings, loaded.sections), "sightline-agent");
  if (check) return agent::run_check(settings);

  // The cameras: one pipeline each, encoding once.
  std::vector<Camera> cameras;
  std::vector<proto::CameraInfo> infos;
  for (const auto &camera_settings : settings.cameras) {
    auto created = agent::CapturePipeline::create(camera_settings);
    if (!created) {
      std::fprintf(stderr, "sightline-agent: camera %s: %s\n", camera_settings.id.c_str(), created.error().c_str());
      return 1;
    }
    Camera camera;
    camera.pipeline = *std::move(created);
    const auto &info = camera.pipeline->info();
    g_message("camera %s: %s, %dx%d@%d, %s via %s", info.id.c_str(), info.source.c_str(), info.width, info.height,
              info.fps, info.codec.c_str(), info.encoder.c_str());
    infos.push_back(info);
    camera.sessions = std::make_unique<agent::Sessions>(*camera.pipeline, settings);
    cameras.push_back(std::move(camera));
  }
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

  // The relay link that brings every camera's offers, and the signaller that
  // hands each to its camera's sessions.
  std::vector<agent::Sessions *> all_sessions;
  for (auto &camera : cameras) all_sessions.push_back(camera.sessions.get());
  std::unique_ptr<agent::RelaySignaller> relay;
  agent::RelayLink link(settings.relay_urls, proto::Hello{proto::kProtocolVersion, settings.id, infos},
                        settings.heartbeat_interval_s, settings.reconnect_max_s,
                        agent::RelayLink::Handlers{
                            [&] {
                              for (const auto &camera : cameras) relay->report(status_of(camera));
                              for (auto *sessions : all_sessions) sessions->renew_again();
                            },
                            [&](const proto::RelayToAgent &message) { relay->handle(message); },
                            // The relay brokered these sessions and forgot them when the
                            // link broke; viewers ask again once it is back. Unless the link
                            // died with our address: the new one takes them along.
                            [&] {
                              if (link.relinking()) return;
                              for (auto *sessions : all_sessions) sessions->forget(*relay, "relay_gone");
                            },
                            nullptr,
                            [&] {
                              std::vector<std::string> ids;
                              for (auto *sessions : all_sessions)
                                for (auto &id : sessions->ids()) ids.push_back(std::move(id));
                              return ids;
                            },
                        },
                        settings.device_secret, settings.ca_file, certificate.get());
  relay = std::make_unique<agent::RelaySignaller>(link, all_sessions);

  // Each camera kept running (retried when it fails), and the control plane
  // (MQTT, when a broker is configured); both hear of every change.
  agent::ControlPlane control(settings);
  for (size_t i = 0; i < cameras.size(); ++i) {
    Camera &camera = cameras[i];
    camera.keeper = std::make_unique<agent::CameraKeeper>(*camera.pipeline, *camera.sessions);
    agent::CameraControl &camera_control =
        control.add(settings.cameras[i], *camera.pipeline, *camera.sessions, *camera.keeper);
    camera.sessions->on_change([&relay, &camera] { relay->report(status_of(camera)); });
    camera.sessions->on_change([&camera_control] { camera_control.state_changed(); });
    // Delivering again (started, restarted): said at once, not at the next round. The
    // relay waits for this to move a fan-out worker's viewers over (docs/fanout.md).
    camera.pipeline->on_first_frame([&camera] { camera.sessions->measure(); });
  }

  for (auto &camera : cameras) {
    auto started = camera.keeper->start();
    if (started) continue;
    // One camera: the settings are wrong or the camera is missing. Several: the
    // others go on, and this one is tried again and again, as when unplugged.
    if (cameras.size() == 1) {
      std::fprintf(stderr, "sightline-agent: %s\n", started.error().c_str());
      return 1;
    }
    camera.keeper->failed(started.error());
  }
  link.start();
  control.start();
  SourceId status_timer(every_ms(kStatusIntervalMs, [&] {
    for (auto &camera : cameras) camera.sessions->measure();
    return true;
  }));
  // The camera's own address changing (a new lease, another network): a relay
  // link that stood on a gone address is made again at once, and the viewers'
  // sessions that did are renewed (docs/protocol.md, "Renewing a session").
  agent::AddressWatch addresses([&cameras, &link](const std::set<std::string> &gone) {
    std::string list;
    for (const auto &a : gone) list += (list.empty() ? "" : ", ") + a;
    g_message("local address(es) gone: %s", list.c_str());
    link.addresses_gone(gone);
    for (auto &camera : cameras) camera.sessions->addresses_gone(gone);
  });
  run_until_signalled();
  g_message("stopping");
  for (auto &camera : cameras) camera.sessions->end_all("agent_stopping");
  control.stop();
  return 0;
}
