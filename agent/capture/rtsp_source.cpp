#include "rtsp_source.hpp"

#include "gst_owned.hpp"
#include "rtsp_audio.hpp"
#include "rtsp_url.hpp"

#include <gst/gst.h>

#include <mutex>

namespace sl::agent {

namespace {

// The jitter buffer's depth: enough to reorder a home network's UDP, small
// enough not to show. rtspsrc's default (2 s) is meant for playback, not live.
// Not drop-on-latency: the buffer holds about its latency's worth at all times,
// so it would drop the oldest packet (a frame's first slice) again and again,
// and a passed-through stream cannot hide a lost slice.
constexpr int kLatencyMs = 200;
// rtspsrc's own timeouts: a connection or reply that does not come (TCP), no
// UDP packet (then it tries TCP, when allowed).
constexpr guint64 kSilenceUs = 5'000'000;
// No frame for this long while playing: the camera went silent (connection
// open, nothing sent), which rtspsrc's timeouts do not catch.
constexpr unsigned kStallMs = 5000;

std::string rtspsrc(const CameraSettings &s, guint64 timeout_us) {
  // The location is quoted (settings refuse quotes in it); no credentials in it
  // (settings refuse them): this text is logged.
  return "rtspsrc name=src location=\"" + s.source + "\" protocols=" + s.rtsp_transport +
         " latency=" + std::to_string(kLatencyMs) + " tcp-timeout=" + std::to_string(timeout_us) +
         " timeout=" + std::to_string(timeout_us) + " do-rtsp-keep-alive=true";
}

// The media ("video", "audio") of one of the camera's streams, as its SDP says.
std::string media_of(const GstCaps *caps) {
  const GstStructure *st = caps && !gst_caps_is_empty(caps) ? gst_caps_get_structure(caps, 0) : nullptr;
  const char *media = st ? gst_structure_get_string(st, "media") : nullptr;
  return media ? media : "";
}

// Which of the camera's streams rtspsrc sets up: the video, and the sound only
// when it is sent on (audio = camera, and a chain for it). A stream not set up
// is not sent by the camera at all, and leaves no pad unlinked.
gboolean select_stream(GstElement *, guint, GstCaps *caps, gpointer with_audio) {
  const std::string media = media_of(caps);
  return media == "video" || (media == "audio" && GPOINTER_TO_INT(with_audio));
}

// The probe sets up the video only, and notes the sound the camera's SDP
// offers (called on rtspsrc's thread, read by the probe's loop).
struct OfferedAudio {
  std::mutex lock;
  std::string encoding;  // "" until an audio stream is seen
};

gboolean note_audio(GstElement *, guint, GstCaps *caps, gpointer data) {
  const std::string media = media_of(caps);
  if (media == "audio") {
    const char *encoding = gst_structure_get_string(gst_caps_get_structure(caps, 0), "encoding-name");
    auto *offered = static_cast<OfferedAudio *>(data);
    std::lock_guard hold(offered->lock);
    if (offered->encoding.empty()) offered->encoding = encoding && *encoding ? encoding : "unnamed";
  }
  return media == "video";
}

// rtspsrc makes new pads each time it connects (a restart after the camera
// dropped included), so its pads are linked here every time, to the first free
// capsfilter named rtp-<codec> (or the sound's) that takes it; gst_parse_launch's
// own delayed link would link the first connection's pad only. A camera whose
// sound comes and goes between connections leaves the sound's chain idle, and
// the video as it was.
void link_stream_pad(GstElement *src, GstPad *pad, gpointer) {
  auto pipeline = adopt(gst_object_get_parent(GST_OBJECT(src)));
  if (!pipeline || !GST_IS_BIN(pipeline.get())) return;
  for (const char *name : {"rtp-H264", "rtp-H265", kRtpAudioFilter}) {
    auto filter = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), name));
    auto sink_pad = filter ? adopt(gst_element_get_static_pad(filter.get(), "sink")) : nullptr;
    if (!sink_pad || gst_pad_is_linked(sink_pad.get())) continue;
    if (GST_PAD_LINK_SUCCESSFUL(gst_pad_link(pad, sink_pad.get()))) return;
  }
}

// decodebin (a camera whose sound was not known at start-up) makes its pad
// when the sound first arrives, and again after each restart: linked each time.
void link_decoded_audio(GstElement *decodebin, GstPad *pad, gpointer) {
  auto caps = adopt(gst_pad_query_caps(pad, nullptr));
  const GstStructure *st = caps && !gst_caps_is_empty(caps.get()) ? gst_caps_get_structure(caps.get(), 0) : nullptr;
  if (!st || !g_str_has_prefix(gst_structure_get_name(st), "audio/")) return;
  auto pipeline = adopt(gst_object_get_parent(GST_OBJECT(decodebin)));
  auto raw = pipeline ? adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "audioraw")) : nullptr;
  auto sink_pad = raw ? adopt(gst_element_get_static_pad(raw.get(), "sink")) : nullptr;
  if (sink_pad && !gst_pad_is_linked(sink_pad.get())) gst_pad_link(pad, sink_pad.get());
}

// Credentials go to the element as properties, never into the logged description.
Owned<GstElement> rtsp_element(GstElement *pipeline, const std::string &user, const std::string &password) {
  auto src = adopt(gst_bin_get_by_name(GST_BIN(pipeline), "src"));
  if (src && !user.empty()) g_object_set(src.get(), "user-id", user.c_str(), "user-pw", password.c_str(), nullptr);
  return src;
}

std::function<void(GstElement *)> configure_for(const CameraSettings &s, bool with_audio) {
  return [user = s.rtsp_user, password = s.rtsp_password, with_audio](GstElement *pipeline) {
    auto src = rtsp_element(pipeline, user, password);
    if (!src) return;
    g_signal_connect(src.get(), "select-stream", G_CALLBACK(select_stream), GINT_TO_POINTER(with_audio));
    g_signal_connect(src.get(), "pad-added", G_CALLBACK(link_stream_pad), nullptr);
    if (auto decode = adopt(gst_bin_get_by_name(GST_BIN(pipeline), "audiodecode")))
      g_signal_connect(decode.get(), "pad-added", G_CALLBACK(link_decoded_audio), nullptr);
  };
}

const char *first_available(std::initializer_list<const char *> names) {
  for (const char *n : names)
    if (element_available(n)) return n;
  return nullptr;
}

// depayloader ! parser ! decoder for a codec, or an error naming the package.
Result<std::string> decode_chain(const std::string &codec) {
  if (codec == "H264") {
    const char *dec = first_available({"avdec_h264", "openh264dec"});
    if (!dec) return fail("No H.264 decoder: install gstreamer1.0-libav.");
    return "rtph264depay ! h264parse ! " + std::string(dec);
  }
  if (codec == "H265") {
    const char *dec = first_available({"avdec_h265", "libde265dec"});
    if (!dec) return fail("No H.265 decoder: install gstreamer1.0-libav.");
    return "rtph265depay ! h265parse ! " + std::string(dec);
  }
  return fail("The camera sends " + codec + "; the agent takes H.264 or H.265 from IP cameras.");
}

// Where rtspsrc's pad is linked (link_stream_pad): a separate chain in the description.
std::string rtp_caps(const std::string &codec) {
  return " capsfilter name=rtp-" + codec + " caps=application/x-rtp,media=video,encoding-name=" + codec;
}

constexpr const char *kToRaw = " ! videoconvert ! video/x-raw,format=I420 ! capsfilter name=rawcaps";

std::string size_text(const RtspOffer &o) {
  if (o.width <= 0) return "size unknown";
  return std::to_string(o.width) + "x" + std::to_string(o.height) + (o.fps > 0 ? "@" + std::to_string(o.fps) : "");
}

}  // namespace

PassthroughDecision decide_passthrough(const RtspOffer &offer) {
  if (offer.codec != "H264")
    return {false, offer.codec + " is decoded and encoded as H.264 (browsers do not all take " + offer.codec + ")"};
  if (offer.profile == "constrained-baseline" || offer.profile == "baseline")
    return {true, "H.264 " + offer.profile + " is passed through as the camera sends it (no B-frames)"};
  return {false, "H.264 " + (offer.profile.empty() ? std::string("of unknown profile") : offer.profile) +
                     " may carry B-frames and profiles some browsers refuse: decoded and encoded again"};
}

std::string describe_rtsp_error(const GError *error, const std::string &url, bool credentials_given) {
  const std::string where = redact_rtsp_url(url);
  if (!error) return "The camera at " + where + " failed.";
  if (error->domain == GST_RESOURCE_ERROR) switch (error->code) {
      case GST_RESOURCE_ERROR_NOT_AUTHORIZED:
        if (!credentials_given)
          return "The camera at " + where +
                 " asks for a user name and password: put user:password in a file and give it as "
                 "rtsp-credentials-file.";
        return "The camera at " + where +
               " refused the user name and password (check rtsp-credentials-file, which holds user:password).";
      case GST_RESOURCE_ERROR_NOT_FOUND:
        return "The camera at " + where + " has no stream at that path (check the URL in 'source').";
      case GST_RESOURCE_ERROR_OPEN_READ:
      case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
      case GST_RESOURCE_ERROR_OPEN_WRITE:
        return "Cannot reach the camera at " + where + " (is it on, and are the address and port right?).";
      default:
        break;
    }
  std::string message = redact_rtsp_url(error->message ? error->message : "");
  while (!message.empty() && message.back() == '.') message.pop_back();
  return "The camera at " + where + " failed: " + message + ".";
}

Result<RtspOffer> probe_rtsp(const CameraSettings &s, guint timeout_ms) {
  const std::string description = rtspsrc(s, guint64(timeout_ms) * 1000) +
                                  " ! application/x-rtp,media=video ! parsebin ! fakesink name=probe async=false";
  GError *raw = nullptr;
  auto pipeline = sink(gst_parse_launch(description.c_str(), &raw));
  Owned<GError> error(raw);
  if (!pipeline || error)
    return fail("Cannot look at the camera (" + std::string(error ? error->message : "no rtspsrc") +
                "): install gstreamer1.0-plugins-good and -bad.");
  OfferedAudio offered_audio;
  if (auto src = rtsp_element(pipeline.get(), s.rtsp_user, s.rtsp_password))
    g_signal_connect(src.get(), "select-stream", G_CALLBACK(note_audio), &offered_audio);
  auto probe = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "probe"));
  auto pad = adopt(gst_element_get_static_pad(probe.get(), "sink"));
  auto bus = adopt(gst_element_get_bus(pipeline.get()));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);

  // Poll the parser's caps; the bus says when the camera refused or vanished.
  const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
  Result<RtspOffer> result = fail("The camera at " + redact_rtsp_url(s.source) + " sent no video within " +
                                  std::to_string(timeout_ms / 1000) + " s.");
  while (g_get_monotonic_time() < deadline) {
    if (auto m = adopt(gst_bus_timed_pop_filtered(bus.get(), 50 * GST_MSECOND,
                                                  GstMessageType(GST_MESSAGE_ERROR | GST_MESSAGE_EOS)))) {
      if (GST_MESSAGE_TYPE(m.get()) == GST_MESSAGE_EOS) {
        result = fail("The camera at " + redact_rtsp_url(s.source) + " ended its stream at once.");
        break;
      }
      GError *raw_error = nullptr;
      gst_message_parse_error(m.get(), &raw_error, nullptr);
      Owned<GError> e(raw_error);
      result = fail(describe_rtsp_error(e.get(), s.source, !s.rtsp_user.empty()));
      break;
    }
    auto caps = adopt(gst_pad_get_current_caps(pad.get()));
    if (!caps || gst_caps_is_empty(caps.get())) continue;
    const GstStructure *st = gst_caps_get_structure(caps.get(), 0);
    RtspOffer offer;
    const std::string name = gst_structure_get_name(st);
    offer.codec = name == "video/x-h264" ? "H264" : name == "video/x-h265" ? "H265" : name;
    if (const char *profile = gst_structure_get_string(st, "profile")) offer.profile = profile;
    gst_structure_get_int(st, "width", &offer.width);
    gst_structure_get_int(st, "height", &offer.height);
    int num = 0, den = 1;
    if (gst_structure_get_fraction(st, "framerate", &num, &den) && num > 0 && den > 0) offer.fps = num / den;
    // A parser's first caps may come before it has read the parameter sets.
    if (offer.width > 0 || (offer.codec != "H264" && offer.codec != "H265")) {
      // Streams are selected (the SDP read) before any of them plays.
      std::lock_guard hold(offered_audio.lock);
      offer.audio = offered_audio.encoding;
      result = offer;
      break;
    }
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return result;
}

// The camera's own sound (audio = camera): plan.audio, the chain that decodes
// it, and plan.audio_note, what is done with it.
void plan_camera_audio(const Result<RtspOffer> &offered, SourcePlan &plan) {
  if (!offered) {
    // Unreachable at start-up: whether the camera has sound, and in what codec,
    // is not known, and the pipeline is fixed now (a restart plays the same one
    // again). The sound was asked for, so it is promised: whatever the camera
    // turns out to send is decoded (decodebin) and sent as Opus; a camera
    // without sound then gives the page a silent track, which is harmless,
    // whereas video only would lose the sound until the agent restarts, after
    // every power cut where the agent came up first.
    if (!element_available("decodebin")) {
      plan.audio_note = "the camera's sound needs decodebin (install gstreamer1.0-plugins-base): video only.";
      return;
    }
    plan.audio = any_camera_audio_chain();
    plan.audio_note =
        "the camera's sound is not known until it answers: whatever it sends will be decoded and sent as Opus "
        "(silent if it has none).";
    return;
  }
  if (offered->audio.empty()) {
    plan.audio_note = "the camera sends no sound (audio = camera): video only.";
    return;
  }
  auto chain = camera_audio_chain(offered->audio, element_available);
  if (!chain) {
    plan.audio_note = chain.error();
    return;
  }
  plan.audio = *chain;
  plan.audio_note = "the camera's " + offered->audio + " sound, decoded and sent as Opus.";
}

Result<SourcePlan> plan_rtsp_source(const CameraSettings &s) {
  SourcePlan plan;
  plan.explain_error = [url = s.source, given = !s.rtsp_user.empty()](const GError *error) {
    return describe_rtsp_error(error, url, given);
  };
  // rtspsrc does not notice a camera that stops sending on an open connection.
  plan.stall_timeout_ms = kStallMs;
  const std::string src = rtspsrc(s, kSilenceUs);
  const std::string shown = redact_rtsp_url(s.source) + " over " + s.rtsp_transport;
  auto offered = probe_rtsp(s, kRtspProbeTimeoutMs);
  if (s.audio == "camera") plan_camera_audio(offered, plan);
  // A sound not sent on is not set up, so the camera does not send it.
  plan.configure = configure_for(s, !plan.audio.empty());
  if (!offered) {
    // Not reachable now: start anyway with a source that takes either codec.
    auto h264 = decode_chain("H264");
    auto h265 = decode_chain("H265");
    if (!h264) return fail(h264.error());
    if (!h265) return fail(h265.error());
    plan.width = s.width;
    plan.height = s.height;
    plan.fps = s.fps;
    plan.description = src + rtp_caps("H265") + " ! " + *h265 + " ! funnel name=anycodec " + rtp_caps("H264") + " ! " +
                       *h264 + " ! anycodec. anycodec." + kToRaw;
    plan.unreachable = offered.error();
    plan.summary = shown + ": " + offered.error() +
                   " The agent keeps retrying; until it is restarted while the camera is up, the camera's H.264 or "
                   "H.265 is decoded and encoded again (pass-through is decided when the stream is seen).";
    return plan;
  }
  const RtspOffer &offer = *offered;
  plan.width = offer.width > 0 ? offer.width : s.width;
  plan.height = offer.height > 0 ? offer.height : s.height;
  plan.fps = offer.fps > 0 ? offer.fps : s.fps;
  const PassthroughDecision decision = decide_passthrough(offer);
  plan.summary = shown + ": " + offer.codec + (offer.profile.empty() ? "" : " " + offer.profile) + ", " +
                 size_text(offer) + "; " + decision.reason;
  if (decision.passthrough) {
    plan.h264_passthrough = true;
    // Whole access units in avc form into the parser: cameras send their
    // parameter sets both out of band (STAP-A) and in band, and h264parse
    // reading such a byte stream splits each IDR in two (the second half
    // without a timestamp, which browsers then show broken). It then writes
    // SPS/PPS before every keyframe, so a viewer can start at any of them.
    plan.description = src + rtp_caps("H264") +
                       " ! rtph264depay ! video/x-h264,stream-format=avc,alignment=au ! h264parse config-interval=-1"
                       " ! video/x-h264,stream-format=byte-stream,alignment=au";
    return plan;
  }
  auto chain = decode_chain(offer.codec);
  if (!chain) return fail(chain.error());
  plan.description = src + rtp_caps(offer.codec) + " ! " + *chain + kToRaw;
  return plan;
}

}  // namespace sl::agent
