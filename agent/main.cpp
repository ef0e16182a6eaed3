// sightline-agent: captures one camera, encodes it once, and streams it over
// WebRTC to every viewer the relay sends its way.
#include "capture/capture_pipeline.hpp"
#include "check.hpp"
#include "config.hpp"
#include "capture/devices.hpp"
#include "control/control_plane.hpp"
#include "gobj.hpp"
#include "logging.hpp"
#include "main_context.hpp"
#include "signaling/relay_link.hpp"
#include "viewers/sessions.hpp"
#include "settings.hpp"

#include <gst/gst.h>

#include <cstdio>
#include <cstring>
#include <functional>

namespace {

constexpr guint kStatusIntervalMs = 2000;
constexpr guint kCameraRetrySeconds = 2;

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
  if (auto *error = std::get_if<std::string>(&created)) {
    std::fprintf(stderr, "sightline-agent: %s\n", error->c_str());
    return 1;
  }
  auto pipeline = std::move(std::get<0>(created));
  const auto &camera = pipeline->info();
  g_message("camera %s: %s, %dx%d@%d, %s via %s", camera.id.c_str(), camera.source.c_str(), camera.width,
            camera.height, camera.fps, camera.codec.c_str(), camera.encoder.c_str());
  prepare_dtls_certificate();

  // The relay link and the viewer sessions it carries.
  std::unique_ptr<agent::RelayLink> link;
  agent::Sessions sessions(*pipeline, settings, [&link](const std::string &json) { link->send(json); });
  link = std::make_unique<agent::RelayLink>(
      settings.relay_url, proto::Hello{proto::kProtocolVersion, settings.id, {camera}}, settings.heartbeat_interval_s,
      settings.reconnect_max_s,
      agent::RelayLink::Handlers{
          [&] { link->send(proto::to_json(sessions.status())); },
          [&](const proto::RelayToAgent &message) { sessions.handle(message); },
          // The relay brokered these sessions and forgot them when the link broke;
          // viewers ask again once it is back.
          [&] { sessions.end_all("relay_gone", false); },
      },
      settings.device_secret, settings.ca_file);

  // The control plane (MQTT), when a broker is configured.
  agent::ControlPlane control(settings, *pipeline, sessions);
  sessions.set_on_change([&control] { control.state_changed(); });

  // A camera that fails or disappears: drop its viewers, stop the pipeline, and
  // try again every few seconds; the agent itself stays up and reachable.
  SourceId restart_timer;
  std::function<void()> restart_camera = [&] {
    restart_timer.reset(after_ms(kCameraRetrySeconds * 1000, [&] {
      restart_timer.release();
      std::string why;
      if (pipeline->play(why)) {
        g_message("camera %s: running again", camera.id.c_str());
        control.set_pipeline_state("playing");
        sessions.report_status();  // the relay lists the camera online again
      } else {
        g_warning("camera %s: still failing (%s)", camera.id.c_str(), why.c_str());
        pipeline->stop();
        restart_camera();
      }
    }));
  };
  pipeline->set_error_handlers(
      [&](const std::string &what) {
        g_warning("camera %s stopped: %s; retrying in %u s", camera.id.c_str(), what.c_str(), kCameraRetrySeconds);
        sessions.end_all("camera_offline", true);
        pipeline->stop();
        sessions.report_status();  // the relay lists the camera offline and refuses viewers meanwhile
        control.set_pipeline_state("failed");
        restart_camera();
      },
      [&](GstElement *branch, const std::string &) { sessions.end_for_branch(branch, "error"); });

  std::string error;
  if (!pipeline->play(error)) {
    std::fprintf(stderr, "sightline-agent: %s\n", error.c_str());
    return 1;
  }
  link->start();
  control.start();
  SourceId status_timer(every_ms(kStatusIntervalMs, [&] {
    sessions.measure_and_report();
    return true;
  }));
  run_until_signalled();
  g_message("stopping");
  sessions.end_all("agent_stopping", true);
  control.stop();
  return 0;
}
