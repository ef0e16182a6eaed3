#include "capture_pipeline.hpp"

#include "audio_mark.hpp"
#include "camera_h264.hpp"
#include "lower_encoding.hpp"
#include "main_context.hpp"
#include "sources.hpp"
#include "stamp.hpp"
#include "whep_url.hpp"

#include <gst/video/video.h>

#include <algorithm>

GST_DEBUG_CATEGORY_STATIC(sl_capture_debug);
#define GST_CAT_DEFAULT sl_capture_debug

namespace sl::agent {

namespace {

// Writes LTS1 into each raw frame as it leaves the source (and follows size changes).
GstPadProbeReturn stamp_probe(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *stamp = static_cast<StampState *>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
      GstCaps *caps = nullptr;
      gst_event_parse_caps(event, &caps);
      gst_video_info_from_caps(&stamp->info, caps);
    }
    return GST_PAD_PROBE_OK;
  }
  GstBuffer *buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  if (GST_VIDEO_INFO_WIDTH(&stamp->info) < kStampWidth || GST_VIDEO_INFO_HEIGHT(&stamp->info) < kStampHeight)
    return GST_PAD_PROBE_OK;  // no room for the stamp (set_video refuses such sizes)
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &stamp->info, buf, GST_MAP_WRITE)) return GST_PAD_PROBE_OK;
  const uint32_t t = uint32_t(uint64_t(g_get_real_time() / 1000) & 0xffffffffu);
  auto plane = [&](int i) { return static_cast<uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, i)); };
  auto stride = [&](int i) { return GST_VIDEO_FRAME_PLANE_STRIDE(&frame, i); };
  write_stamp(plane(0), stride(0), plane(1), stride(1), plane(2), stride(2), t, uint8_t(stamp->seq++ & 0x3f));
  gst_video_frame_unmap(&frame);
  return GST_PAD_PROBE_OK;
}

// With the stamp on, the test sound becomes the audio mark (audio_mark.hpp). Each
// buffer's capture time is read from its timestamp on the pipeline clock (the
// clock the RTP timestamps, and so the browser's lip sync, come from), brought
// to the wall clock the video stamp uses.
GstPadProbeReturn audio_mark_probe(GstPad *pad, GstPadProbeInfo *info, gpointer) {
  GstBuffer *buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  auto element = adopt(gst_pad_get_parent_element(pad));
  auto clock = element ? adopt(gst_element_get_clock(element.get())) : Owned<GstClock>();
  if (!clock || !GST_BUFFER_PTS_IS_VALID(buf)) return GST_PAD_PROBE_OK;
  // audiotestsrc's segment starts at 0: its timestamps are running times.
  const GstClockTime captured = gst_element_get_base_time(element.get()) + GST_BUFFER_PTS(buf);
  const int64_t ago_us = (int64_t(gst_clock_get_time(clock.get())) - int64_t(captured)) / 1000;
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_WRITE)) return GST_PAD_PROBE_OK;
  constexpr int kChannels = 2;  // the caps describe_audio sets
  write_audio_mark(reinterpret_cast<int16_t *>(map.data), map.size / (sizeof(int16_t) * kChannels), kChannels, 48000,
                   g_get_real_time() - ago_us);
  gst_buffer_unmap(buf, &map);
  return GST_PAD_PROBE_OK;
}

uint32_t pack(const ProfileLevel &pl) {
  return 0x1000000u | uint32_t(pl.profile_idc) << 16 | uint32_t(pl.constraints) << 8 | pl.level_idc;
}

}  // namespace

// The camera's sound, encoded once as Opus (48 kHz stereo, 20 ms frames) into its
// own tee, in the same pipeline as the video: one clock for both, so the RTCP
// sender reports of both streams map their RTP times to one NTP time and the
// browser plays them in step. "" when the camera has none. `camera_audio`: an
// IP camera's own sound up to raw audio (SourcePlan::audio), for audio = camera.
std::string describe_audio(const std::string &audio, const std::string &camera_audio) {
  if (audio == "none" || (audio == "camera" && camera_audio.empty())) return "";
  std::string src = "audiotestsrc name=audiosrc is-live=true wave=sine freq=440 volume=0.3";
  if (audio == "alsa") src = "alsasrc name=audiosrc";
  if (audio.rfind("alsa:", 0) == 0) src = "alsasrc name=audiosrc device=" + audio.substr(5);
  if (audio == "camera") src = camera_audio;
  return " " + src +
         " ! audioconvert ! audioresample ! capsfilter name=audioformat "
         "caps=audio/x-raw,format=S16LE,rate=48000,channels=2"
         " ! opusenc name=opusenc bitrate=48000 frame-size=20"
         " ! queue name=audiosend leaky=downstream max-size-buffers=0 max-size-bytes=0 max-size-time=500000000"
         " ! tee name=audiotee allow-not-linked=true";
}

Result<std::unique_ptr<CapturePipeline>> CapturePipeline::create(const CameraSettings &s) {
  GST_DEBUG_CATEGORY_INIT(sl_capture_debug, "sightline-capture", 0, "Sightline: the camera's pipeline");
  auto planned = plan_source(s);
  if (!planned) return fail(planned.error());
  const SourcePlan &plan = *planned;

  EncoderChoice encoder{"passthrough", Codec::H264};
  if (!plan.h264_passthrough) {
    auto choice = choose_encoder(s.encoder, element_available);
    if (!choice) return fail(choice.error());
    encoder = *choice;
  }

  // A raw tee before our encoder: a lower encoding, when a viewer needs one, is fed from it.
  const std::string raw_tee = plan.h264_passthrough ? "" : " ! tee name=rawtee allow-not-linked=true";
  const std::string description =
      plan.description + raw_tee + " ! " + describe_encoder(encoder, s.bitrate_kbps, plan.fps, s.keyframe_interval_s) +
      " ! queue name=send leaky=downstream max-size-buffers=0 max-size-bytes=0 max-size-time=500000000"
      " ! tee name=tee allow-not-linked=true" +
      describe_audio(s.audio, plan.audio);
  GST_INFO("pipeline: %s", description.c_str());
  if (!plan.h264_note.empty()) g_message("camera %s: %s", s.id.c_str(), plan.h264_note.c_str());
  GError *raw = nullptr;
  auto built = sink(gst_parse_launch(description.c_str(), &raw));
  Owned<GError> error(raw);
  if (!built || error)
    return fail("Cannot build the capture pipeline (" + std::string(error ? error->message : "unknown error") +
                "): " + description);
  GstElement *parsed = built.get();
  if (plan.configure) plan.configure(parsed);
  if (!plan.summary.empty()) g_message("camera %s: %s", s.id.c_str(), plan.summary.c_str());
  if (!plan.audio_note.empty()) g_message("camera %s: %s", s.id.c_str(), plan.audio_note.c_str());
  std::unique_ptr<CapturePipeline> p(new CapturePipeline());
  p->pipeline_ = std::move(built);
  p->tee_ = adopt(gst_bin_get_by_name(GST_BIN(parsed), "tee"));
  p->encoder_ = adopt(gst_bin_get_by_name(GST_BIN(parsed), "encoder"));
  p->raw_tee_ = adopt(gst_bin_get_by_name(GST_BIN(parsed), "rawtee"));
  p->encoder_choice_ = encoder;
  p->encoder_setting_ = s.encoder;
  p->whep_source_ = is_whep_source(s.source);
  p->codec_ = encoder.codec;
  p->source_ = adopt(gst_bin_get_by_name(GST_BIN(parsed), "src"));
  p->explain_source_error_ = plan.explain_error;
  p->start_source_ = plan.start;
  p->stop_source_ = plan.stop;
  p->stall_timeout_ms_ = plan.stall_timeout_ms;
  p->srccaps_ = adopt(gst_bin_get_by_name(GST_BIN(parsed), "srccaps"));
  p->src_caps_ = plan.src_caps;
  p->modes_ = plan.modes;
  p->mode_ = plan.mode;
  p->passthrough_ = plan.h264_passthrough;
  p->stamped_ = s.stamp;
  p->bitrate_kbps_ = s.bitrate_kbps;
  p->keyframe_interval_s_ = s.keyframe_interval_s;
  p->info_ =
      proto::CameraInfo{s.id, plan.width, plan.height, plan.fps, codec_name(encoder.codec), s.source, encoder.element};
  p->width_ = plan.width;
  p->height_ = plan.height;
  p->fps_ = plan.fps;
  if ((p->audio_tee_ = adopt(gst_bin_get_by_name(GST_BIN(parsed), "audiotee"))))
    p->info_.audio = codec_name(Codec::Opus);
  if (s.stamp && s.audio == "test") {
    auto audioformat = adopt(gst_bin_get_by_name(GST_BIN(parsed), "audioformat"));
    auto pad = adopt(gst_element_get_static_pad(audioformat.get(), "src"));
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, audio_mark_probe, nullptr, nullptr);
  }
  p->speaker_ = s.speaker;
  p->info_.talk = s.speaker != "none";
  p->info_.uplink_kbps = s.uplink_kbps;
  if (plan.h264_profile) p->sent_profile_ = pack(*plan.h264_profile);

  if (s.stamp) {
    auto rawcaps = adopt(gst_bin_get_by_name(GST_BIN(parsed), plan.stamp_at.c_str()));
    auto pad = adopt(gst_element_get_static_pad(rawcaps.get(), "src"));
    gst_video_info_set_format(&p->stamp_.info, GST_VIDEO_FORMAT_I420, guint(plan.width), guint(plan.height));
    gst_pad_add_probe(pad.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      stamp_probe, &p->stamp_, nullptr);
  }

  // What the encoder really produces: frames, bytes, keyframes, size into the tee.
  auto tee_sink = adopt(gst_element_get_static_pad(p->tee_.get(), "sink"));
  gst_pad_add_probe(tee_sink.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    &CapturePipeline::on_encoded, p.get(), nullptr);
  // The viewers' keyframe requests, on their way up from the tee: coalesced and
  // rate-limited (the agent's own go to the encoder directly: force_keyframe()).
  gst_pad_add_probe(tee_sink.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &CapturePipeline::on_keyframe_request, p.get(),
                    nullptr);

  auto bus = adopt(gst_element_get_bus(parsed));
  p->bus_watch_ = gst_bus_add_watch(bus.get(), &CapturePipeline::on_bus_message, p.get());
  p->figures_since_us_ = g_get_monotonic_time();
  p->tap_->output_changed = [pipeline = p.get()] { pipeline->check_waits(); };
  // Stopped by the camera (unplugged, a stream that closed): a failure like any other.
  p->tap_->ended = [pipeline = p.get()] {
    if (pipeline->running_ && pipeline->on_error_) pipeline->on_error_("the source ended its stream");
  };
  return p;
}

CapturePipeline::~CapturePipeline() {
  tap_->output_changed = nullptr;  // what the probe posted may still run
  tap_->ended = nullptr;
  tap_->first_frame = nullptr;
  if (bus_watch_) g_source_remove(bus_watch_);
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  if (pipeline_ && stop_source_) stop_source_(pipeline_.get());
}

void CapturePipeline::set_error_handlers(ErrorHandler on_error, BranchErrorHandler on_branch_error) {
  on_error_ = std::move(on_error);
  on_branch_error_ = std::move(on_branch_error);
}

Result<void> CapturePipeline::play() {
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The element that failed said why on the bus (e.g. libcamerasrc: no camera).
    auto bus = adopt(gst_element_get_bus(pipeline_.get()));
    std::string why;
    if (auto m = adopt(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR))) {
      GError *raw = nullptr;
      gst_message_parse_error(m.get(), &raw, nullptr);
      Owned<GError> e(raw);
      // The source's own words when it has them (a V4L2 device that is missing).
      if (explain_source_error_ && source_ && GST_MESSAGE_SRC(m.get()) == GST_OBJECT(source_.get())) {
        gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
        return fail(explain_source_error_(e.get()));
      }
      why = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(m.get()))) + ": " + (e ? e->message : "failed");
    }
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    return fail("The capture pipeline did not start" + (why.empty() ? std::string(".") : " (" + why + ").") +
                " sightline-agent --check and --list-devices tell more.");
  }
  frames_at_play_ = frames_out_.load();
  running_ = true;
  if (start_source_) start_source_(pipeline_.get());
  watch_for_stall();
  return ok();
}

void CapturePipeline::stop() {
  running_ = false;
  stall_timer_.reset();
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  if (stop_source_) stop_source_(pipeline_.get());
}

void CapturePipeline::watch_for_stall() {
  if (!stall_timeout_ms_) return;
  auto last_frames = std::make_shared<uint64_t>(frames_out_.load());
  auto since_us = std::make_shared<gint64>(g_get_monotonic_time());
  stall_timer_.reset(every_ms(1000, [this, last_frames, since_us] {
    const gint64 now = g_get_monotonic_time();
    if (frames_out_.load() != *last_frames) {
      *last_frames = frames_out_.load();
      *since_us = now;
      return true;
    }
    if (now - *since_us < gint64(stall_timeout_ms_) * 1000) return true;
    stall_timer_.release();  // this source ends as the callback returns
    const std::string what =
        "no video from the source for " + std::to_string(stall_timeout_ms_ / 1000) + " s (the camera went silent)";
    g_warning("capture pipeline failed: %s", what.c_str());
    if (on_error_) on_error_(what);
    return false;
  }));
}

GstElement *CapturePipeline::branch_of(GstObject *src) const {
  // Walk up to the child of the pipeline that holds `src`.
  GstObject *o = src;
  while (o) {
    GstObject *parent = GST_OBJECT_PARENT(o);
    if (parent == GST_OBJECT(pipeline_.get())) break;
    o = parent;
  }
  if (!o || !viewer_bins_.count(GST_ELEMENT(o))) return nullptr;
  return GST_ELEMENT(o);
}

namespace {
// A talk-back meter's reading (level element, talk_chain()): its loudest
// channel's peak over the last second, in dBFS.
std::optional<double> talk_peak(GstMessage *msg) {
  const GstStructure *s = gst_message_get_structure(msg);
  if (!s || !gst_structure_has_name(s, "level") ||
      !g_str_has_prefix(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), "talklevel"))
    return std::nullopt;
  const GValue *peak = gst_structure_get_value(s, "peak");
  if (!peak) return std::nullopt;
  std::optional<double> loudest;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS  // the level element posts a GValueArray
      auto *channels = static_cast<GValueArray *>(g_value_get_boxed(peak));
  for (guint i = 0; channels && i < channels->n_values; ++i) {
    const double db = g_value_get_double(g_value_array_get_nth(channels, i));
    if (!loudest || db > *loudest) loudest = db;
  }
  G_GNUC_END_IGNORE_DEPRECATIONS
  return loudest;
}
}  // namespace

std::string CapturePipeline::talk_chain(const std::string &session) const {
  std::string sink = "fakesink sync=false async=false";  // "test": measured only
  if (speaker_ == "alsa") sink = "alsasink sync=false async=false";
  if (speaker_.rfind("alsa:", 0) == 0) sink = "alsasink sync=false async=false device=" + speaker_.substr(5);
  return "rtpopusdepay ! opusdec ! audioconvert ! audioresample ! level name=talklevel-" + session +
         " interval=1000000000 post-messages=true ! " + sink;
}

gboolean CapturePipeline::on_bus_message(GstBus *, GstMessage *msg, gpointer data) {
  auto *self = static_cast<CapturePipeline *>(data);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT) {
    if (auto peak = talk_peak(msg))
      g_message("camera %s: talk-back (%s) peak %.0f dBFS", self->info_.id.c_str(),
                GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)) + 10, *peak);
    return G_SOURCE_CONTINUE;
  }
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR || GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
    GError *raw = nullptr;
    gchar *debug = nullptr;
    const bool is_error = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR;
    if (is_error)
      gst_message_parse_error(msg, &raw, &debug);
    else
      gst_message_parse_warning(msg, &raw, &debug);
    Owned<GError> err(raw);
    OwnedStr dbg(debug);
    const bool from_source = self->source_ && GST_MESSAGE_SRC(msg) == GST_OBJECT(self->source_.get());
    const std::string what = from_source && is_error && self->explain_source_error_
                                 ? self->explain_source_error_(err.get())
                                 : std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + err->message;
    if (!is_error) {
      g_warning("pipeline warning from %s", what.c_str());
      return G_SOURCE_CONTINUE;
    }
    if (GstElement *branch = self->branch_of(GST_MESSAGE_SRC(msg))) {
      g_warning("%s (viewers' part of the pipeline) failed: %s", GST_OBJECT_NAME(branch), what.c_str());
      if (self->on_branch_error_) self->on_branch_error_(branch, what);
    } else {
      g_warning("capture pipeline failed: %s (%s)", what.c_str(), dbg ? dbg.get() : "");
      if (self->on_error_) self->on_error_(what);
    }
  }
  return G_SOURCE_CONTINUE;
}

Result<void> CapturePipeline::add(GstElement *branch) {
  if (!gst_bin_add(GST_BIN(pipeline_.get()), branch)) return fail("cannot add the viewers' bin to the pipeline");
  viewer_bins_.insert(branch);
  if (!gst_element_sync_state_with_parent(branch)) {
    gst_element_set_state(branch, GST_STATE_NULL);
    viewer_bins_.erase(branch);
    gst_bin_remove(GST_BIN(pipeline_.get()), branch);
    return fail("the viewers' bin did not start");
  }
  return ok();
}

Result<std::shared_ptr<RtpStream>> CapturePipeline::rtp_stream(const RtpFormat &format) {
  return stream_from(tee_.get(), codec_, format, streams_);
}

Result<std::shared_ptr<RtpStream>> CapturePipeline::audio_rtp_stream(const RtpFormat &format) {
  if (!audio_tee_) return fail("this camera sends no sound");
  return stream_from(audio_tee_.get(), Codec::Opus, format, streams_);
}

Result<std::shared_ptr<RtpStream>> CapturePipeline::lower_rtp_stream(const RtpFormat &format, int kbps) {
  if (!lower_bin_)
    if (auto made = make_lower(kbps); !made) return fail(made.error());
  return stream_from(lower_tee_.get(), codec_, format, lower_streams_);
}

namespace {
// Encoded frames into the decoder of a camera passed through: from a keyframe on,
// and again from the next keyframe after the queue before the decoder dropped some
// (the decoder did not keep up). A decoder given frames whose references it never
// saw makes broken pictures of them, which the lower encoder would then send.
struct FromKeyframe {
  std::atomic<bool> waiting{true};
};
void start_at_keyframes(GstElement *queue) {
  auto *state = new FromKeyframe;
  g_signal_connect(queue, "overrun",
                   G_CALLBACK(+[](GstElement *, gpointer data) { static_cast<FromKeyframe *>(data)->waiting = true; }),
                   state);
  auto pad = adopt(gst_element_get_static_pad(queue, "src"));
  gst_pad_add_probe(
      pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad *, GstPadProbeInfo *info, gpointer data) {
        auto *from = static_cast<FromKeyframe *>(data);
        if (!from->waiting.load()) return GST_PAD_PROBE_OK;
        if (GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT))
          return GST_PAD_PROBE_DROP;
        from->waiting = false;
        return GST_PAD_PROBE_OK;
      },
      state, [](gpointer data) { delete static_cast<FromKeyframe *>(data); });
}
}  // namespace

Result<void> CapturePipeline::make_lower(int kbps) {
  EncoderChoice encoder = encoder_choice_;
  std::string decoding;
  int width = info_.width, height = info_.height;
  if (passthrough_) {
    auto decoder = choose_h264_decoder(element_available);
    if (!decoder) return fail(decoder.error());
    auto choice = choose_encoder(encoder_setting_, element_available);
    if (!choice) return fail(choice.error());
    if (choice->codec != codec_)
      return fail("a lower encoding of the camera's own H.264 needs an H.264 encoder, and " + choice->element +
                  " is not one: install gstreamer1.0-plugins-ugly (x264enc)");
    encoder = *choice;
    decoding = describe_lower_decoding(*decoder);
    // The size the camera sends, as its caps said (a WHEP source's is known only from them).
    if (const Video sent = video(); sent.width > 0 && sent.height > 0) width = sent.width, height = sent.height;
  }
  const LowerSize size = lower_size(width, height);
  const std::string description =
      decoding + describe_lower_encoding(encoder, size, info_.fps, kbps, keyframe_interval_s_);
  GError *raw = nullptr;
  auto bin = sink(gst_parse_bin_from_description(description.c_str(), TRUE, &raw));
  Owned<GError> error(raw);
  if (!bin || error)
    return fail("cannot build the lower encoding (" + std::string(error ? error->message : "unknown error") +
                "): " + description);
  gst_object_set_name(GST_OBJECT(bin.get()), "lower-encoding");
  if (passthrough_) start_at_keyframes(adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "lowin")).get());
  if (auto added = add(bin.get()); !added) return fail(added.error());
  // Raw pictures before the camera's encoder; a camera passed through: its encoded frames.
  GstElement *feed = raw_tee_ ? raw_tee_.get() : tee_.get();
  auto feed_pad = adopt(gst_element_request_pad_simple(feed, "src_%u"));
  auto bin_sink = adopt(gst_element_get_static_pad(bin.get(), "sink"));
  if (!feed_pad || !bin_sink || GST_PAD_LINK_FAILED(gst_pad_link(feed_pad.get(), bin_sink.get()))) {
    if (feed_pad) gst_element_release_request_pad(feed, feed_pad.get());
    detach(bin.get());
    return fail("cannot feed the lower encoding from the camera");
  }
  lower_tee_ = adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "lowtee"));
  lower_encoder_ = adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "lowencoder"));
  lower_sizecaps_ = adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "lowsize"));
  lower_bin_ = std::move(bin);
  lower_choice_ = encoder;
  lower_kbps_ = kbps;
  lower_size_ = size;
  g_message("camera %s: lower encoding made: %dx%d at %d kbit/s%s", info_.id.c_str(), size.width, size.height, kbps,
            passthrough_ ? " (the camera's H.264 decoded, encoded again)" : "");
  // Its decoder starts at the camera's next keyframe: asked for now, as for a
  // viewer joining (an IP camera's can be seconds away).
  if (passthrough_) force_keyframe();
  return ok();
}

Result<void> CapturePipeline::set_lower_bitrate(int kbps) {
  if (!lower_encoder_) return fail("no lower encoding");
  auto setting = bitrate_setting(lower_choice_.element, kbps);
  if (!setting) return fail(setting.error());
  gst_util_set_object_arg(G_OBJECT(lower_encoder_.get()), setting->property.c_str(), setting->value.c_str());
  lower_kbps_ = kbps;
  return ok();
}

std::function<void()> CapturePipeline::lower_keyframe_request() const {
  if (!lower_encoder_) return [] {};
  std::shared_ptr<GstPad> pad(gst_element_get_static_pad(lower_encoder_.get(), "src"), Unref<GstPad>());
  return [pad, last = lower_keyframe_at_] {
    // At most one per kMinKeyframeGapUs, however many of its viewers ask.
    const gint64 now = g_get_monotonic_time();
    gint64 before = last->load();
    if ((before && now - before < kLowerKeyframeGapUs) || !last->compare_exchange_strong(before, now)) return;
    if (pad) gst_pad_send_event(pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, FALSE, 0));
  };
}

bool CapturePipeline::drop_lower_if_unused() {
  std::erase_if(lower_streams_, [](const auto &entry) { return entry.second.expired(); });
  if (!lower_bin_ || !lower_streams_.empty()) return false;
  detach(lower_bin_.get());
  lower_bin_.reset();
  lower_tee_.reset();
  lower_encoder_.reset();
  lower_sizecaps_.reset();
  lower_kbps_ = 0;
  g_message("camera %s: lower encoding taken out (no viewer on it)", info_.id.c_str());
  return true;
}

std::optional<CapturePipeline::Lower> CapturePipeline::lower() const {
  if (!lower_bin_) return std::nullopt;
  return Lower{lower_size_.width, lower_size_.height, lower_kbps_};
}

bool CapturePipeline::is_lower(GstElement *bin) const {
  if (bin && bin == lower_bin_.get()) return true;
  for (const auto &[key, weak] : lower_streams_)
    if (auto stream = weak.lock(); stream && stream->bin() == bin) return true;
  return false;
}

Result<std::shared_ptr<RtpStream>> CapturePipeline::stream_from(
    GstElement *tee, Codec codec, const RtpFormat &format, std::map<std::string, std::weak_ptr<RtpStream>> &streams) {
  const std::string key = format.key();
  std::erase_if(streams, [](const auto &entry) { return entry.second.expired(); });
  if (auto it = streams.find(key); it != streams.end()) return it->second.lock();
  // The wall clock at running time zero: the stream's RTP timestamps become capture times.
  std::optional<int64_t> wall_us_at_zero;
  if (auto clock = adopt(gst_element_get_clock(pipeline_.get()))) {
    const GstClockTime now = gst_clock_get_time(clock.get()), base = gst_element_get_base_time(pipeline_.get());
    if (GST_CLOCK_TIME_IS_VALID(base) && now >= base) wall_us_at_zero = g_get_real_time() - gint64((now - base) / 1000);
  }
  auto stream = RtpStream::make(
      codec, format, "rtp-" + std::to_string(++stream_serial_),
      [pipeline = this](GstElement *bin) { pipeline->detach(bin); }, wall_us_at_zero);
  if (!stream) return fail("no RTP payloader for this codec: install gstreamer1.0-plugins-good");
  // Running before it is linked, like a branch: the encoder's tee never waits on it.
  if (auto added = add(stream->bin()); !added) return fail(added.error());
  auto tee_pad = adopt(gst_element_request_pad_simple(tee, "src_%u"));
  auto sink_pad = adopt(gst_element_get_static_pad(stream->bin(), "sink"));
  // A tee inside a bin (the lower encoding's) feeds the stream through a ghost of its pad.
  Owned<GstPad> out = tee_pad ? ref(tee_pad.get()) : nullptr;
  GstObject *tee_bin = GST_OBJECT_PARENT(tee);
  if (tee_pad && tee_bin != GST_OBJECT(pipeline_.get())) {
    out = sink(gst_ghost_pad_new(nullptr, tee_pad.get()));
    gst_pad_set_active(out.get(), TRUE);
    gst_element_add_pad(GST_ELEMENT(tee_bin), out.get());
  }
  if (!out || !sink_pad || GST_PAD_LINK_FAILED(gst_pad_link(out.get(), sink_pad.get()))) {
    if (out && out != tee_pad) gst_element_remove_pad(GST_ELEMENT(tee_bin), out.get());
    if (tee_pad) gst_element_release_request_pad(tee, tee_pad.get());
    return fail("cannot link an RTP stream to the encoder");  // its release takes the bin out again
  }
  streams.emplace(key, stream);
  return stream;
}

size_t CapturePipeline::rtp_streams() const {
  size_t alive = 0;
  for (const auto &[key, stream] : streams_) alive += stream.expired() ? 0 : 1;
  return alive;
}

namespace {
// A viewer's branch must never stop the camera: the tees hand every pad's flow
// back to the one send thread, so an error from one webrtcbin (a refused event,
// a failed push) would end the encoder and every other viewer with it. The
// branch's input reports such a failure as the branch's own error (the bus
// handler ends that session) and tells the tee all is well.
void report_once(GstPad *pad, GstObject *parent, const char *what) {
  static GQuark reported = g_quark_from_static_string("sightline-branch-failed");
  if (g_object_get_qdata(G_OBJECT(pad), reported)) return;
  g_object_set_qdata(G_OBJECT(pad), reported, GINT_TO_POINTER(1));
  if (parent && GST_IS_ELEMENT(parent))
    GST_ELEMENT_ERROR(GST_ELEMENT(parent), STREAM, FAILED, ("the viewer's branch refused %s", what), (nullptr));
}

GstFlowReturn contained(GstPad *pad, GstObject *parent, GstFlowReturn flow) {
  if (flow >= GST_FLOW_OK || flow == GST_FLOW_FLUSHING || flow == GST_FLOW_NOT_LINKED) return flow;
  report_once(pad, parent, gst_flow_get_name(flow));
  return GST_FLOW_OK;
}

void contain_failures(GstElement *branch, const char *pad_name) {
  auto pad = adopt(gst_element_get_static_pad(branch, pad_name));
  if (!pad || !GST_IS_GHOST_PAD(pad.get())) return;
  gst_pad_set_chain_function(
      pad.get(), +[](GstPad *p, GstObject *parent, GstBuffer *buffer) {
        return contained(p, parent, gst_proxy_pad_chain_default(p, parent, buffer));
      });
  gst_pad_set_chain_list_function(
      pad.get(), +[](GstPad *p, GstObject *parent, GstBufferList *list) {
        return contained(p, parent, gst_proxy_pad_chain_list_default(p, parent, list));
      });
  gst_pad_set_event_function(
      pad.get(), +[](GstPad *p, GstObject *parent, GstEvent *event) -> gboolean {
        const bool sticky = gst_event_type_get_flags(GST_EVENT_TYPE(event)) & GST_EVENT_TYPE_STICKY;
        const char *event_name = GST_EVENT_TYPE_NAME(event);
        const gboolean ok = gst_pad_event_default(p, parent, event);
        if (ok || !sticky) return ok;
        report_once(p, parent, event_name);
        return TRUE;
      });
}
}  // namespace

Result<std::shared_ptr<BranchGate>> CapturePipeline::link(GstElement *branch, const RtpStream &stream,
                                                          const char *pad) {
  // The stream's tee is inside its bin: the branch links to a ghost of the tee's pad.
  auto tee_pad = adopt(gst_element_request_pad_simple(stream.tee(), "src_%u"));
  auto sink_pad = adopt(gst_element_get_static_pad(branch, pad));
  auto ghost = tee_pad ? sink(gst_ghost_pad_new(nullptr, tee_pad.get())) : nullptr;
  std::shared_ptr<BranchGate> gate;
  if (ghost && sink_pad) {
    gst_pad_set_active(ghost.get(), TRUE);
    gst_element_add_pad(stream.bin(), ghost.get());
    gate = BranchGate::install(tee_pad.get());  // before the link: no frame slips past it
    contain_failures(branch, pad);
    if (GST_PAD_LINK_FAILED(gst_pad_link(ghost.get(), sink_pad.get()))) {
      gate.reset();
      gst_element_remove_pad(stream.bin(), ghost.get());
    }
  }
  if (!gate) {
    if (tee_pad) gst_element_release_request_pad(stream.tee(), tee_pad.get());
    return fail("cannot link the viewer branch to the encoder");
  }
  return gate;
}

namespace {
// Gives back the pad that fed a branch or a stream: the encoder's tee's, or the
// ghost on a stream's bin of its tee's pad (ghost taken off, pad released).
void release_tee_pad(GstPad *pad) {
  Owned<GstPad> tee_pad;
  if (GST_IS_GHOST_PAD(pad)) {
    tee_pad = adopt(gst_ghost_pad_get_target(GST_GHOST_PAD(pad)));
    if (auto bin = adopt(gst_pad_get_parent_element(pad))) gst_element_remove_pad(bin.get(), pad);
  } else {
    tee_pad = ref(pad);
  }
  if (!tee_pad) return;
  if (auto tee = adopt(gst_pad_get_parent_element(tee_pad.get())))
    gst_element_release_request_pad(tee.get(), tee_pad.get());
}

// A branch (or stream) on its way out: unlinked from a streaming thread (each of
// its inputs: video, and sound when it has it), then stopped and removed on the
// main loop once every input is off. Shared by the probes and the main loop.
struct Detach {
  Detach(Owned<GstElement> in, Owned<GstElement> leaving, int inputs)
      : pipeline(std::move(in)), branch(std::move(leaving)), remaining(inputs) {}
  Owned<GstElement> pipeline;
  Owned<GstElement> branch;
  std::atomic<int> remaining;

  // On the main loop: stop the branch, take it out of the pipeline.
  static void finish(std::shared_ptr<Detach> d) {
    post_to_main([d] {
      gst_element_set_state(d->branch.get(), GST_STATE_NULL);
      // (Not in it when adding it failed.)
      if (GST_OBJECT_PARENT(d->branch.get()) == GST_OBJECT(d->pipeline.get()))
        gst_bin_remove(GST_BIN(d->pipeline.get()), d->branch.get());
    });
  }
  // One input is off.
  static void unlinked(const std::shared_ptr<Detach> &d) {
    if (d->remaining.fetch_sub(1) == 1) finish(d);
  }
};

struct Unlink {
  std::shared_ptr<Detach> detach;
  std::atomic<bool> done{false};
};
}  // namespace

void CapturePipeline::detach(GstElement *branch) {
  viewer_bins_.erase(branch);
  // The tee pads that feed the branch's sink pads.
  std::vector<Owned<GstPad>> feeding;
  GstIterator *it = gst_element_iterate_sink_pads(branch);
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    if (auto peer = adopt(gst_pad_get_peer(GST_PAD(g_value_get_object(&item))))) feeding.push_back(std::move(peer));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  auto d = std::make_shared<Detach>(ref(pipeline_.get()), ref(branch), int(feeding.size()));
  if (feeding.empty()) {  // never linked (the session ended before its answer)
    Detach::finish(d);
    return;
  }
  // Each idle probe runs once no buffer is passing through its tee pad (possibly
  // right away, on this thread); the branch is stopped later on the main loop.
  for (auto &peer : feeding)
    gst_pad_add_probe(
        peer.get(), GST_PAD_PROBE_TYPE_IDLE,
        [](GstPad *pad, GstPadProbeInfo *, gpointer data) -> GstPadProbeReturn {
          auto *unlink = static_cast<Unlink *>(data);
          if (unlink->done.exchange(true)) return GST_PAD_PROBE_REMOVE;
          if (auto branch_sink = adopt(gst_pad_get_peer(pad))) gst_pad_unlink(pad, branch_sink.get());
          release_tee_pad(pad);
          Detach::unlinked(unlink->detach);
          return GST_PAD_PROBE_REMOVE;
        },
        new Unlink{d}, [](gpointer data) { delete static_cast<Unlink *>(data); });
}

GstPadProbeReturn CapturePipeline::on_keyframe_request(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *self = static_cast<CapturePipeline *>(data);
  if (!gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info))) return GST_PAD_PROBE_OK;
  std::lock_guard lock(self->keyframe_mutex_);
  return self->keyframe_requests_.request(g_get_monotonic_time()) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

std::pair<uint64_t, uint64_t> CapturePipeline::keyframe_requests() {
  std::lock_guard lock(keyframe_mutex_);
  return {keyframe_requests_.received(), keyframe_requests_.forwarded()};
}

GstPadProbeReturn CapturePipeline::on_encoded(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
  auto *self = static_cast<CapturePipeline *>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
      // A live source that ends its stream went away (unplugged, an IP camera's
      // server closed): a failure like any other, which the camera keeper
      // restarts. (The bus posts no EOS of its own while no viewer's sink is there.)
      post_to_main([tap = self->tap_] {
        if (tap->ended) tap->ended();
      });
      return GST_PAD_PROBE_OK;
    }
    if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
    GstCaps *caps = nullptr;
    gst_event_parse_caps(event, &caps);
    const GstStructure *st = gst_caps_get_structure(caps, 0);
    int width = 0, height = 0, num = 0, den = 1;
    if (gst_structure_get_int(st, "width", &width) && gst_structure_get_int(st, "height", &height)) {
      self->width_ = width;
      self->height_ = height;
    }
    if (gst_structure_get_fraction(st, "framerate", &num, &den) && den > 0 && num > 0) self->fps_ = num / den;
    post_to_main([tap = self->tap_] {
      if (tap->output_changed) tap->output_changed();
    });
    return GST_PAD_PROBE_OK;
  }
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  self->frames_.fetch_add(1, std::memory_order_relaxed);
  if (self->frames_out_.fetch_add(1, std::memory_order_relaxed) == self->frames_at_play_.load()) {
    post_to_main([tap = self->tap_] {
      if (tap->first_frame) tap->first_frame();
    });
  }
  self->bytes_.fetch_add(gst_buffer_get_size(buffer), std::memory_order_relaxed);
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
    bool due = false;
    {
      std::lock_guard lock(self->keyframe_mutex_);
      due = self->keyframe_requests_.frame(g_get_monotonic_time());
    }
    if (due) self->ask_encoder_for_keyframe();  // a request held back: its interval has passed
    return GST_PAD_PROBE_OK;
  }
  {
    std::lock_guard lock(self->keyframe_mutex_);
    self->keyframe_requests_.keyframe(g_get_monotonic_time());
  }
  if (self->codec_ == Codec::H264) {
    // What viewers' answers name (sdp_payload.hpp): the SPS really sent. Known
    // before the keyframe is counted: whoever sees the count sees the profile.
    GstMapInfo map;
    if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      if (auto sps = read_access_unit({map.data, map.size}).parsed_sps) self->sent_profile_ = pack(sps->profile);
      gst_buffer_unmap(buffer, &map);
    }
  }
  self->keyframes_.fetch_add(1, std::memory_order_release);
  post_to_main([tap = self->tap_] {
    if (tap->output_changed) tap->output_changed();
  });
  if (self->tap_->wanted.exchange(false)) {
    auto caps = adopt(gst_pad_get_current_caps(pad));
    // Shared: post_to_main's closure is copyable.
    std::shared_ptr<GstSample> sample(gst_sample_new(buffer, caps.get(), nullptr, nullptr), Unref<GstSample>());
    post_to_main([tap = self->tap_, sample] {
      auto waiters = std::move(tap->waiters);
      tap->waiters.clear();
      for (auto &done : waiters) done(sample.get());
    });
  }
  return GST_PAD_PROBE_OK;
}

void CapturePipeline::next_keyframe(std::function<void(GstSample *)> done) {
  tap_->waiters.push_back(std::move(done));
  tap_->wanted = true;
  force_keyframe();
}

std::optional<ProfileLevel> CapturePipeline::sent_profile() const {
  const uint32_t v = sent_profile_.load();
  if (!v) return std::nullopt;
  return ProfileLevel{uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

CapturePipeline::Video CapturePipeline::video() const { return Video{width_.load(), height_.load(), fps_.load()}; }

Result<void> CapturePipeline::set_bitrate(int kbps) {
  const int configured = bitrate_kbps_;
  bitrate_kbps_ = kbps;
  if (auto applied = apply_bitrate(sending_kbps()); !applied) {
    bitrate_kbps_ = configured;
    return applied;
  }
  return ok();
}

Result<void> CapturePipeline::adapt_bitrate(int kbps) {
  const int before = adaptive_kbps_;
  adaptive_kbps_ = std::max(kbps, 0);
  if (auto applied = apply_bitrate(sending_kbps()); !applied) {
    adaptive_kbps_ = before;
    return applied;
  }
  return ok();
}

Result<void> CapturePipeline::apply_bitrate(int kbps) {
  auto setting = bitrate_setting(passthrough_ ? "passthrough" : info_.encoder, kbps);
  if (!setting) return fail(setting.error());
  gst_util_set_object_arg(G_OBJECT(encoder_.get()), setting->property.c_str(), setting->value.c_str());
  GST_INFO("encoder bitrate now %d kbit/s", kbps);
  return ok();
}

Result<void> CapturePipeline::reconfigure(int width, int height, int fps) {
  if (!srccaps_) return fail("this source cannot change its size or rate");
  if (stamped_ && (width < kStampWidth || height < kStampHeight))
    return fail("the latency stamp needs frames of at least 384x32");
  std::string caps_text;
  if (modes_.empty()) {  // the test source, or a camera missing at start-up (scaled): any size and rate
    auto caps = adopt(gst_caps_from_string(src_caps_.c_str()));
    gst_caps_set_simple(caps.get(), "width", G_TYPE_INT, width, "height", G_TYPE_INT, height, "framerate",
                        GST_TYPE_FRACTION, fps, 1, nullptr);
    caps_text = take_string(gst_caps_to_string(caps.get()));
  } else {
    // A camera: the nearest mode of the kind it captures now (a change of kind
    // would need another pipeline; restart the agent with new settings for that).
    std::vector<CameraMode> same_kind;
    for (const auto &m : modes_)
      if (m.kind == mode_.kind && m.format == mode_.format) same_kind.push_back(m);
    auto mode = choose_mode(same_kind, {width, height, fps});
    if (!mode || mode->width != width || mode->height != height)
      return fail("the camera offers no " + std::to_string(width) + "x" + std::to_string(height) +
                  " mode in its current format");
    caps_text = mode_caps(*mode, width, height, std::min(fps, std::max(1, int(mode->fps))));
  }
  auto caps = adopt(gst_caps_from_string(caps_text.c_str()));
  if (!caps) return fail("cannot describe " + caps_text);
  g_object_set(srccaps_.get(), "caps", caps.get(), nullptr);
  src_caps_ = caps_text;
  if (lower_sizecaps_) {  // the lower encoding follows: half the new size
    lower_size_ = lower_size(width, height);
    auto lower = adopt(gst_caps_from_string(lower_size_caps(lower_size_).c_str()));
    g_object_set(lower_sizecaps_.get(), "caps", lower.get(), nullptr);
  }
  info_.width = width;
  info_.height = height;
  info_.fps = fps;
  GST_INFO("source caps now %s", caps_text.c_str());
  return ok();
}

Result<void> CapturePipeline::restart() {
  stop();
  ++restarts_;
  return play();
}

void CapturePipeline::wait_for(std::function<bool()> check, guint timeout_ms, std::function<void(bool)> done) {
  if (check()) {
    done(true);
    return;
  }
  auto wait = std::make_unique<Wait>(Wait{std::move(check), std::move(done), {}});
  Wait *w = wait.get();
  w->deadline.reset(after_ms(timeout_ms, [this, w] {
    w->deadline.release();
    end_wait(w, false);
  }));
  waits_.push_back(std::move(wait));
}

void CapturePipeline::check_waits() {
  std::vector<Wait *> met;
  for (const auto &w : waits_)
    if (w->check()) met.push_back(w.get());
  for (Wait *w : met) end_wait(w, true);
}

void CapturePipeline::end_wait(Wait *wait, bool ok) {
  auto it = std::find_if(waits_.begin(), waits_.end(), [wait](const auto &w) { return w.get() == wait; });
  if (it == waits_.end()) return;
  auto ending = std::move(*it);  // out of the list before `done`, which may wait again
  waits_.erase(it);
  ending->done(ok);
}

void CapturePipeline::force_keyframe() {
  {
    std::lock_guard lock(keyframe_mutex_);
    keyframe_requests_.own_request(g_get_monotonic_time());
  }
  ask_encoder_for_keyframe();
}

void CapturePipeline::ask_encoder_for_keyframe() {
  if (!encoder_) return;
  auto pad = adopt(gst_element_get_static_pad(encoder_.get(), "src"));
  if (!pad) return;
  // all-headers FALSE: the payloader puts SPS and PPS before every IDR anyway
  // (config-interval -1). Asked with TRUE, Chromium dropped a frame and asked for
  // a keyframe (PLI) after every forced keyframe (most likely the encoder's
  // downstream key-unit event made rtph264pay send the parameter sets once more,
  // on their own): a loop held at one keyframe per 500 ms only by the rate limit
  // (keyframe_requests.hpp). Measured in a page over 15 s: 28 PLIs and 27 frames
  // dropped before, none after (three_pages_play_the_right_cameras checks it).
  gst_pad_send_event(pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, FALSE, 0));
}

Figures CapturePipeline::take_figures() {
  const gint64 now = g_get_monotonic_time();
  const double seconds = double(now - figures_since_us_) / 1e6;
  figures_since_us_ = now;
  const uint64_t frames = frames_.exchange(0), bytes = bytes_.exchange(0);
  if (seconds <= 0) return {};
  return Figures{double(frames) / seconds, double(bytes) * 8.0 / 1000.0 / seconds};
}

}  // namespace sl::agent
