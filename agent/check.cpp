#include "check.hpp"

#include "capture/devices.hpp"
#include "capture/encoder_choice.hpp"
#include "capture/sources.hpp"
#include "gobj.hpp"
#include "main_context.hpp"
#include "mqtt_link.hpp"
#include "rtsp_url.hpp"
#include "signaling/relay_link.hpp"

#include <gst/gst.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace sl::agent {

namespace {

constexpr guint kNetworkTimeoutMs = 8000;

struct Report {
  int problems = 0;
  void line(const char *label, bool ok, const std::string &what) {
    std::printf("%-5s %-8s %s\n", ok ? "ok" : "FAIL", label, what.c_str());
    std::fflush(stdout);
    if (!ok) ++problems;
  }
  void note(const char *label, const std::string &what) {
    std::printf("%-5s %-8s %s\n", "-", label, what.c_str());
    std::fflush(stdout);
  }
};

std::string size_text(int w, int h, int fps) {
  return std::to_string(w) + "x" + std::to_string(h) + "@" + std::to_string(fps);
}

void check_encoder(const CameraSettings &s, Report &report, bool passthrough);

// Camera, format and encoder; false when there is no usable camera.
bool check_camera(const CameraSettings &s, Report &report, const std::vector<CameraDevice> &found) {
  if (s.source.rfind("libcamera", 0) == 0) {
    if (!element_available("libcamerasrc")) {
      report.line("camera", false, "source=" + s.source + ": libcamerasrc is missing (install gstreamer1.0-libcamera)");
      return false;
    }
    const std::string want = s.source.size() > 10 ? s.source : "";
    bool present = false;
    for (const auto &c : found)
      present = present || (c.source.rfind("libcamera", 0) == 0 && (want.empty() || c.source == want));
    if (!present) {
      report.line("camera", false,
                  "source=" + s.source +
                      ": libcamera finds no such camera (is the ribbon cable seated "
                      "and the camera enabled? --list-devices shows what there is)");
      return false;
    }
  }
  auto planned = plan_source(s);
  if (!planned) {
    report.line("camera", false, "source=" + s.source + ": " + planned.error());
    if (found.empty()) report.note("cameras", "none found on this machine (--list-devices)");
    return false;
  }
  const SourcePlan &plan = *planned;
  // Planning starts an unreachable IP camera or a missing V4L2 device anyway
  // (it is retried); a check says so.
  if (!plan.unreachable.empty()) {
    report.line("camera", false, "source=" + redact_rtsp_url(s.source) + ": " + plan.unreachable);
    if (found.empty() && s.source.rfind("v4l2:", 0) == 0)
      report.note("cameras", "none found on this machine (--list-devices)");
    return false;
  }
  std::string what = "source=" + s.source + ": ";
  if (s.source == "test")
    what += "moving test pattern, " + size_text(plan.width, plan.height, plan.fps);
  else if (!plan.summary.empty())  // an IP camera: what it sends, and what is done with it
    what = "source=" + plan.summary;
  else if (s.source.rfind("libcamera", 0) == 0)
    what += "raw frames from the ISP, " + size_text(plan.width, plan.height, plan.fps);
  else
    what += (plan.mode.kind == PixelKind::H264    ? "the camera's own H.264"
             : plan.mode.kind == PixelKind::MJPEG ? "MJPEG (decoded, then encoded)"
                                                  : plan.mode.format + " (encoded)") +
            std::string(", ") + size_text(plan.width, plan.height, plan.fps) + " (asked " +
            size_text(s.width, s.height, s.fps) + ")";
  report.line("camera", true, what);
  // A camera's own H.264: what was found in its first frames, and what the agent does with it.
  if (!plan.h264_note.empty()) report.line("h264", true, plan.h264_note);
  // audio = camera: the camera's own sound, or why there is none (the camera still runs).
  if (!plan.audio_note.empty()) {
    if (plan.audio.empty())
      report.note("sound", plan.audio_note);
    else
      report.line("sound", true, plan.audio_note);
  }
  if (s.source == "test") {
    if (found.empty())
      report.note("cameras", "none found on this machine (no V4L2 or libcamera camera); the test source needs none");
    else
      report.note("cameras", std::to_string(found.size()) + " found (--list-devices), first: " + found[0].source);
  }

  check_encoder(s, report, plan.h264_passthrough);
  return true;
}

void check_encoder(const CameraSettings &s, Report &report, bool passthrough) {
  if (passthrough) {
    report.line("encoder", true,
                "none: the camera's H.264 is passed through (what browsers take of it is checked at each "
                "viewer's offer)");
  } else {
    auto choice = choose_encoder(s.encoder, element_available);
    if (!choice) {
      report.line("encoder", false, choice.error());
    } else {
      const auto &c = *choice;
      const bool hardware = c.element == "v4l2h264enc";
      report.line("encoder", true,
                  c.element + (hardware ? " (hardware)" : " (software)") + ", " + codec_name(c.codec) +
                      (c.codec == Codec::H264 ? " constrained baseline" : "") + ", " + std::to_string(s.bitrate_kbps) +
                      " kbit/s");
    }
  }
}

// What WebRTC needs besides the encoder, with the package that has it.
void check_webrtc(Report &report) {
  const std::pair<const char *, const char *> needed[] = {
      {"webrtcbin", "gstreamer1.0-plugins-bad"},   {"nicesrc", "gstreamer1.0-nice"},
      {"dtlssrtpenc", "gstreamer1.0-plugins-bad"}, {"rtph264pay", "gstreamer1.0-plugins-good"},
      {"rtpvp8pay", "gstreamer1.0-plugins-good"},  {"jpegenc", "gstreamer1.0-plugins-good"}};
  std::string missing;
  for (const auto &[element, package] : needed)
    if (!element_available(element))
      missing += std::string(missing.empty() ? "" : ", ") + element + " (" + package + ")";
  report.line("webrtc", missing.empty(),
              missing.empty() ? "webrtcbin, libnice, DTLS-SRTP, RTP payloaders present" : "missing: " + missing);
}

}  // namespace

int run_check(const AgentSettings &s) {
  Report report;
  std::printf("sightline-agent check for device id '%s'\n", s.id.c_str());
  const auto found = list_cameras();
  for (const auto &camera : s.cameras) {
    if (s.cameras.size() > 1) std::printf("camera %s\n", camera.id.c_str());
    if (!check_camera(camera, report, found)) check_encoder(camera, report, false);
  }
  check_webrtc(report);

  // The relay and the broker, side by side, each bounded; each reports its
  // first outcome once.
  auto loop = adopt(g_main_loop_new(nullptr, FALSE));
  struct Probe {
    const char *label;
    bool waiting = false;
  } relay_probe{"relay"}, broker_probe{"broker"};
  int pending = 0;
  auto finish = [&](Probe &p, bool ok, const std::string &what) {
    if (!p.waiting) return;
    p.waiting = false;
    report.line(p.label, ok, what);
    if (--pending == 0) g_main_loop_quit(loop.get());
  };
  auto finish_relay = [&](bool ok, const std::string &what) { finish(relay_probe, ok, what); };
  auto finish_broker = [&](bool ok, const std::string &what) { finish(broker_probe, ok, what); };

  relay_probe.waiting = true;
  ++pending;
  auto relay = std::make_unique<RelayLink>(
      // A hello with no cameras proves the id and secret without taking the
      // camera over from an agent of the same id that is running right now.
      std::vector<std::string>{s.relay_url}, proto::Hello{proto::kProtocolVersion, s.id, {}}, s.heartbeat_interval_s,
      s.reconnect_max_s,
      RelayLink::Handlers{
          nullptr,
          [&](const proto::RelayToAgent &m) {
            if (std::holds_alternative<proto::AgentWelcome>(m))
              finish_relay(true,
                           s.relay_url + ": connected, camera '" + s.id + "' accepted" +
                               (s.device_secret.empty() ? " (no device secret: the relay runs insecure-dev)" : ""));
            else if (auto *e = std::get_if<proto::Error>(&m))
              finish_relay(false, s.relay_url + ": refused: " + e->code + ": " + e->message);
          },
          [&] { finish_relay(false, s.relay_url + ": the relay closed the link before accepting the camera"); },
          [&](const std::string &why) { finish_relay(false, why); },
      },
      s.device_secret, s.ca_file);
  relay->start();

  std::unique_ptr<MqttLink> broker;
  if (s.mqtt_url.empty()) {
    report.note("broker", "none configured ('mqtt'): video works; commands answer 'control plane unavailable'");
  } else {
    broker_probe.waiting = true;
    ++pending;
    MqttOptions options;
    options.url = s.mqtt_url;
    options.user = s.mqtt_user;
    options.password = s.mqtt_password;
    options.ca_file = s.mqtt_ca_file;
    // Not the agent's own client id: a running agent keeps its session.
    options.client_id = "sightline-check-" + s.id + "-" + std::to_string(getpid());
    broker = std::make_unique<MqttLink>(
        options, MqttLink::Handlers{[&] {
                                      finish_broker(true, s.mqtt_url + ": connected" +
                                                              (s.mqtt_user.empty() ? "" : " as '" + s.mqtt_user + "'"));
                                    },
                                    nullptr, nullptr,
                                    [&](const std::string &why) { finish_broker(false, s.mqtt_url + ": " + why); }});
    broker->start();
  }

  // The deadline stays attached until it goes out of scope (SourceId removes it).
  SourceId deadline(g_timeout_add(
      kNetworkTimeoutMs,
      [](gpointer l) -> gboolean {
        g_main_loop_quit(static_cast<GMainLoop *>(l));
        return G_SOURCE_CONTINUE;
      },
      loop.get()));
  g_main_loop_run(loop.get());
  const std::string waited = "no answer in " + std::to_string(kNetworkTimeoutMs / 1000) + " s";
  finish_relay(false, s.relay_url + ": " + waited);
  finish_broker(false, s.mqtt_url + ": " + waited);
  if (broker) broker->stop();
  relay.reset();

  if (report.problems == 0)
    std::printf("All good: this agent can stream camera '%s'.\n", s.id.c_str());
  else
    std::printf("%d problem%s: see the FAIL lines above.\n", report.problems, report.problems == 1 ? "" : "s");
  return report.problems == 0 ? 0 : 1;
}

}  // namespace sl::agent
