#include "camera_control.hpp"

#include "capture/v4l2_controls.hpp"
#include "homeassistant.hpp"
#include "main_context.hpp"
#include "snapshot.hpp"

#include <optional>

namespace sl::agent {

using control::Ack;
using control::Topic;

namespace {
constexpr guint kKeyframeTimeoutMs = 3000;
constexpr guint kResizeTimeoutMs = 5000;
constexpr guint kSnapshotTimeoutMs = 5000;

std::string result(std::initializer_list<std::pair<const char *, long>> fields) {
  json::Writer w;
  for (const auto &[k, v] : fields) w.integer(k, v);
  return w.done();
}

// A command that needs the camera's frames, while it delivers none: said at
// once (and why), rather than after waiting out the command's timeout.
std::optional<Ack> refusal_while_down(const CameraKeeper &keeper, const CameraSettings &camera,
                                      const std::string &param = {}) {
  if (keeper.state() != "failed") return std::nullopt;
  const std::string why = keeper.error().empty() ? "it failed" : keeper.error();
  return control::error_ack(
      "failed", "camera " + camera.id + " delivers no video (" + why + "); the agent keeps retrying it", param);
}

int device_fd(GstElement *source) {
  if (!source || !g_object_class_find_property(G_OBJECT_GET_CLASS(source), "device-fd")) return -1;
  int fd = -1;
  g_object_get(source, "device-fd", &fd, nullptr);
  return fd;
}
}  // namespace

CameraControl::CameraControl(const AgentSettings &agent, const CameraSettings &camera, CapturePipeline &pipeline,
                             Sessions &sessions, CameraKeeper &keeper, Publish publish)
    : agent_(agent),
      camera_(camera),
      pipeline_(pipeline),
      sessions_(sessions),
      keeper_(keeper),
      publish_(std::move(publish)),
      router_(camera.id, control::wall_clock_ms, [this](const Ack &ack) {
        publish_(control::topic(agent_.mqtt_prefix, camera_.id, Topic::Ack), control::to_json(ack), 1, false);
      }) {
  add_handlers();
}

std::pair<std::string, std::string> CameraControl::offline() const {
  control::CameraState offline;
  offline.camera = camera_.id;
  offline.updated_at_ms = control::wall_clock_ms();
  return {control::topic(agent_.mqtt_prefix, camera_.id, Topic::State), control::to_json(offline)};
}

control::CameraState CameraControl::state() const {
  control::CameraState s;
  const auto &info = pipeline_.info();
  const auto video = pipeline_.video();
  s.camera = camera_.id;
  s.online = true;
  s.pipeline = keeper_.state();
  s.error = keeper_.error();
  s.source = info.source;
  s.encoder = info.encoder;
  s.codec = info.codec;
  s.width = video.width;
  s.height = video.height;
  s.fps = sessions_.figures().fps;
  s.fps_target = info.fps;
  s.bitrate_kbps = sessions_.figures().bitrate_kbps;
  s.bitrate_target_kbps = pipeline_.bitrate_kbps();
  if (!pipeline_.passthrough()) {  // a camera's own H.264 has no bitrate of ours: unknown
    s.configured_kbps = pipeline_.bitrate_kbps();
    s.target_kbps = pipeline_.sending_kbps();
  }
  s.lower = sessions_.lower_encoding();
  s.viewers = int(sessions_.count());
  s.uptime_s = (g_get_monotonic_time() - started_us_) / G_USEC_PER_SEC;
  s.keyframes = int64_t(pipeline_.keyframes());
  s.restarts = int64_t(pipeline_.restarts());
  if (int fd = device_fd(pipeline_.source()); fd >= 0) s.controls = list_controls(fd);
  s.updated_at_ms = control::wall_clock_ms();
  return s;
}

std::string CameraControl::state_key(const control::CameraState &s) const {
  return s.pipeline + " " + s.error + " " + std::to_string(s.width) + "x" + std::to_string(s.height) + "@" +
         std::to_string(s.fps_target) + " " + std::to_string(s.bitrate_target_kbps) + " " +
         std::to_string(s.target_kbps) + " " + std::to_string(s.viewers) + " " + std::to_string(s.lower.kbps) + " " +
         std::to_string(s.lower.viewers);
}

void CameraControl::state_changed() {
  // Read once (a V4L2 camera's controls are ioctls), published only when it changed.
  const auto s = state();
  if (state_key(s) != last_key_) publish(s);
}

void CameraControl::publish_state() { publish(state()); }

void CameraControl::publish(const control::CameraState &s) {
  if (publish_(control::topic(agent_.mqtt_prefix, camera_.id, Topic::State), control::to_json(s), 1, true))
    last_key_ = state_key(s);
}

std::vector<std::pair<std::string, std::string>> CameraControl::discovery() const {
  const auto &info = pipeline_.info();
  DiscoveryInput in{agent_.homeassistant_prefix, agent_.mqtt_prefix, camera_.id, SL_VERSION,
                    info.source + " via " + info.encoder};
  return homeassistant_configs(in);
}

void CameraControl::add_handlers() {
  router_.on("get_state", [this](const control::Params &, Reply reply) { reply(control::ok_ack(to_json(state()))); });
  router_.on("force_keyframe", [this](const control::Params &, Reply reply) { force_keyframe(std::move(reply)); });
  router_.on("restart_pipeline", [this](const control::Params &, Reply reply) { restart(std::move(reply)); });
  router_.on("set_video", [this](const control::Params &params, Reply reply) {
    set_video(std::get<control::SetVideo>(params), std::move(reply));
  });
  router_.on("snapshot", [this](const control::Params &, Reply reply) { snapshot(std::move(reply)); });
  router_.on("set_controls", [this](const control::Params &params, Reply reply) {
    set_camera_controls(std::get<control::SetControls>(params), std::move(reply));
  });
}

// Answered when the keyframe has left the encoder, not when it was asked for.
void CameraControl::force_keyframe(Reply reply) {
  if (auto refusal = refusal_while_down(keeper_, camera_)) return reply(*refusal);
  const uint64_t before = pipeline_.keyframes();
  pipeline_.force_keyframe();
  pipeline_.wait_for([this, before] { return pipeline_.keyframes() > before; }, kKeyframeTimeoutMs,
                     [this, reply](bool ok) {
                       reply(ok ? control::ok_ack(result({{"keyframes", long(pipeline_.keyframes())}}))
                                : control::error_ack("failed", "no keyframe came out of the encoder within 3 s"));
                     });
}

void CameraControl::restart(Reply reply) {
  if (busy_) {
    reply(control::error_ack("busy", "a restart or size change is under way; try again in a moment"));
    return;
  }
  busy_ = true;
  keeper_.restart([this, reply](Result<void> restarted) {
    busy_ = false;
    reply(restarted ? control::ok_ack(result({{"restarts", long(pipeline_.restarts())}}))
                    : control::error_ack("failed", restarted.error()));
  });
}

void CameraControl::set_video(const control::SetVideo &p, Reply reply) {
  if (busy_) {
    reply(control::error_ack("busy", "a restart or size change is under way; try again in a moment"));
    return;
  }
  if (auto refusal = refusal_while_down(keeper_, camera_, p.width ? "width" : p.fps ? "fps" : "bitrate"))
    return reply(*refusal);
  if (p.bitrate_kbps) {
    if (auto set = pipeline_.set_bitrate(*p.bitrate_kbps); !set) {
      reply(control::error_ack(pipeline_.passthrough() ? "unsupported" : "failed", set.error(), "bitrate"));
      return;
    }
  }
  const auto now = pipeline_.video();
  const int width = p.width.value_or(now.width), height = p.height.value_or(now.height);
  const int fps = p.fps.value_or(pipeline_.info().fps);
  auto answer = [this, reply] {
    const auto v = pipeline_.video();
    reply(control::ok_ack(result({{"width", v.width},
                                  {"height", v.height},
                                  {"fps", pipeline_.info().fps},
                                  {"bitrate", pipeline_.bitrate_kbps()}})));
    sessions_.changed();  // the broker and the relay hear of the new size or ceiling now
  };
  if (width == now.width && height == now.height && fps == pipeline_.info().fps) {
    answer();
    return;
  }
  if (auto changed = pipeline_.reconfigure(width, height, fps); !changed) {
    reply(control::error_ack("unsupported", changed.error(), p.width ? "width" : "fps"));
    return;
  }
  // Viewers keep their sessions: the new size reaches them in-band (new SPS on
  // the next keyframe), which browsers decode without renegotiating.
  busy_ = true;
  pipeline_.force_keyframe();
  pipeline_.wait_for(
      [this, width, height, fps] {
        const auto v = pipeline_.video();
        return v.width == width && v.height == height && v.fps == fps;
      },
      kResizeTimeoutMs,
      [this, reply, answer](bool ok) {
        busy_ = false;
        sessions_.changed();
        if (ok)
          answer();
        else
          reply(control::error_ack("failed", "the pipeline did not produce frames of the new size within 5 s"));
      });
}

// The next keyframe, decoded and encoded as JPEG: one path for every source,
// including cameras whose own H.264 is passed through.
void CameraControl::snapshot(Reply reply) {
  if (auto refusal = refusal_while_down(keeper_, camera_)) return reply(*refusal);
  auto timeout = std::make_shared<SourceId>();
  timeout->reset(after_ms(kSnapshotTimeoutMs, [reply, timeout] {
    timeout->release();
    reply(control::error_ack("failed", "no picture within 5 s"));
  }));
  pipeline_.next_keyframe([this, reply, timeout](GstSample *sample) {
    encode_jpeg(sample, [this, reply, timeout](Jpeg jpeg) {
      timeout->reset();
      if (jpeg.bytes.empty()) {
        reply(control::error_ack("failed", jpeg.error));
        return;
      }
      const std::string topic = control::topic(agent_.mqtt_prefix, camera_.id, Topic::Snapshot);
      // Retained: a relay or Home Assistant that comes later still gets the last picture.
      const bool sent = publish_(topic, jpeg.bytes, 1, true);
      const long taken_at = long(control::wall_clock_ms());
      json::Writer w;
      w.str("topic", topic)
          .str("url", "/api/cameras/" + camera_.id + "/snapshot.jpg?latest=1&taken_at=" + std::to_string(taken_at))
          .integer("bytes", long(jpeg.bytes.size()))
          .integer("width", jpeg.width)
          .integer("height", jpeg.height)
          .integer("taken_at", taken_at);
      reply(sent ? control::ok_ack(w.done())
                 : control::error_ack("failed", "the broker went away before the picture was sent"));
    });
  });
}

void CameraControl::set_camera_controls(const control::SetControls &p, Reply reply) {
  if (auto refusal = refusal_while_down(keeper_, camera_, p.values.front().first)) return reply(*refusal);
  const int fd = device_fd(pipeline_.source());
  if (fd < 0) {
    reply(control::error_ack(
        "unsupported", camera_.source == "test" ? "the test source has no camera controls" : "the camera is not open",
        p.values.front().first));
    return;
  }
  const auto errors = set_controls(fd, p.values);
  if (!errors.empty()) {
    const auto &e = errors.front();
    reply(control::error_ack(e.unknown ? "unsupported" : "bad_params", e.name + ": " + e.message, e.name));
    return;
  }
  json::Writer w;
  JsonBuilder *b = w.raw();
  json_builder_set_member_name(b, "applied");
  json_builder_begin_object(b);
  for (const auto &[name, value] : p.values) {
    json_builder_set_member_name(b, name.c_str());
    json_builder_add_int_value(b, value);
  }
  json_builder_end_object(b);
  reply(control::ok_ack(w.done()));
  publish_state();
}

}  // namespace sl::agent
