#include "rtp_stream.hpp"

#include "congestion/twcc_feedback.hpp"
#include "media_clock.hpp"
#include "playout_delay.hpp"

#include <gst/rtp/rtp.h>

#include <atomic>

namespace sl::agent {

namespace {

// Marks the first packet out of each keyframe as the only one without
// DELTA_UNIT. rtph264pay does so itself, rtpvp8pay marks nothing; the payloader
// pushes a frame's packets from within the call that hands it the frame, so the
// probe on its sink pad sees the frame just before the probe on its source pad
// sees the frame's packets (one buffer or buffer list per push).
struct KeyMark {
  std::atomic<bool> next_is_key{false};
  int remap_pt = -1;  // the payload type the packets get, when the payloader cannot use it itself
};

GstPadProbeReturn on_frame(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *mark = static_cast<KeyMark *>(data);
  mark->next_is_key = !GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT);
  return GST_PAD_PROBE_OK;
}

void set_delta(GstBuffer *packet, bool delta) {
  if (delta)
    GST_BUFFER_FLAG_SET(packet, GST_BUFFER_FLAG_DELTA_UNIT);
  else
    GST_BUFFER_FLAG_UNSET(packet, GST_BUFFER_FLAG_DELTA_UNIT);
}

void set_pt(GstBuffer *packet, int pt) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (pt < 0 || !gst_rtp_buffer_map(packet, GST_MAP_WRITE, &rtp)) return;
  gst_rtp_buffer_set_payload_type(&rtp, guint8(pt));
  gst_rtp_buffer_unmap(&rtp);
}

GstPadProbeReturn on_packets(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *mark = static_cast<KeyMark *>(data);
  const bool delta = !mark->next_is_key.exchange(false);
  // Fresh from the payloader, so writable without a copy.
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    GST_PAD_PROBE_INFO_DATA(info) = list;
    if (gst_buffer_list_length(list) > 0) set_delta(gst_buffer_list_get_writable(list, 0), delta);
    if (mark->remap_pt >= 0)
      for (guint i = 0; i < gst_buffer_list_length(list); ++i)
        set_pt(gst_buffer_list_get_writable(list, i), mark->remap_pt);
  } else {
    GstBuffer *packet = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
    GST_PAD_PROBE_INFO_DATA(info) = packet;
    set_delta(packet, delta);
    set_pt(packet, mark->remap_pt);
  }
  return GST_PAD_PROBE_OK;
}

// A payload type outside the payloader's range (remap_pt): its caps say the
// type the packets carry, and a caps query from downstream (a viewer's branch
// being linked) hears the stream's caps.
GstPadProbeReturn remap_caps(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *stream_caps = GST_CAPS(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_QUERY_UPSTREAM) {
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
    if (GST_QUERY_TYPE(query) != GST_QUERY_CAPS) return GST_PAD_PROBE_OK;
    GstCaps *filter = nullptr;
    gst_query_parse_caps(query, &filter);
    auto result = adopt(filter ? gst_caps_intersect(stream_caps, filter) : gst_caps_ref(stream_caps));
    gst_query_set_caps_result(query, result.get());
    return GST_PAD_PROBE_HANDLED;
  }
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps *caps = nullptr;
  gst_event_parse_caps(event, &caps);
  int pt = 0;
  gst_structure_get_int(gst_caps_get_structure(stream_caps, 0), "payload", &pt);
  auto remapped = adopt(gst_caps_copy(caps));
  gst_caps_set_simple(remapped.get(), "payload", G_TYPE_INT, pt, nullptr);
  GST_PAD_PROBE_INFO_DATA(info) = gst_event_new_caps(remapped.get());
  gst_event_unref(event);
  return GST_PAD_PROBE_OK;
}

// The payloader settles its output (payload type, SSRC, codec parameters, header
// extensions, which it then asks for) from what downstream accepts. Downstream is
// the stream's tee, which may feed nobody yet, so the stream answers for it with
// its caps. (A capsfilter would too, but it splits the payloader's buffer lists
// into single packets, and a frame's packets go as one list all the way to the
// ICE sink: send_path.hpp.)
GstPadProbeReturn answer_caps_query(GstPad *, GstPadProbeInfo *info, gpointer data) {
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
  if (GST_QUERY_TYPE(query) != GST_QUERY_CAPS) return GST_PAD_PROBE_OK;
  GstCaps *ours = GST_CAPS(data), *filter = nullptr;
  gst_query_parse_caps(query, &filter);
  auto result = adopt(filter ? gst_caps_intersect(ours, filter) : gst_caps_ref(ours));
  gst_query_set_caps_result(query, result.get());
  return GST_PAD_PROBE_HANDLED;
}

}  // namespace

std::shared_ptr<RtpStream> RtpStream::make(Codec codec, const RtpFormat &format, std::string name,
                                           std::function<void(GstElement *)> release,
                                           std::optional<int64_t> wall_us_at_zero) {
  std::shared_ptr<RtpStream> s(new RtpStream());
  // webrtcbin writes the SSRC into the answer from the caps it is given; without
  // one there (no buffer has flowed yet) it answers SSRC 0 and the browser never
  // renders what arrives. So the stream picks its SSRC and tells both sides.
  const guint ssrc = g_random_int_range(1, G_MAXINT32);
  s->caps_ = format.caps + ",ssrc=(uint)" + std::to_string(ssrc);
  // The playout-delay extension: in the caps, it is in each viewer's answer, and
  // the payloader asks for it as it negotiates them (request-extension below).
  if (format.playout_delay_id)
    s->caps_ += ",extmap-" + std::to_string(format.playout_delay_id) + "=(string)" + kPlayoutDelayUri;
  // Transport-wide congestion control: the payloader leaves room for the sequence
  // number in every packet, and each viewer's RTP session writes its own there
  // (viewers/link_estimate.hpp); in the answer with its RTCP feedback.
  if (format.twcc_id)
    s->caps_ +=
        ",extmap-" + std::to_string(format.twcc_id) + "=(string)" + kTwccUri + ",rtcp-fb-transport-cc=(boolean)true";
  s->rtp_caps_ = adopt(gst_caps_from_string(s->caps_.c_str()));
  if (!s->rtp_caps_) return nullptr;
  // RTP timestamps on the wall clock (RFC 7273), said in each viewer's answer.
  int clock_rate = 0;
  gst_structure_get_int(gst_caps_get_structure(s->rtp_caps_.get(), 0), "clock-rate", &clock_rate);
  if (wall_us_at_zero && clock_rate > 0) s->reference_clock_ = sl::agent::reference_clock();

  GstElement *payloader = nullptr;
  if (codec == Codec::H264) {
    payloader = gst_element_factory_make("rtph264pay", nullptr);
    if (payloader) {
      g_object_set(payloader, "config-interval", -1, nullptr);
      gst_util_set_object_arg(G_OBJECT(payloader), "aggregate-mode", "zero-latency");
    }
  } else if (codec == Codec::VP8) {
    payloader = gst_element_factory_make("rtpvp8pay", nullptr);
    if (payloader) gst_util_set_object_arg(G_OBJECT(payloader), "picture-id-mode", "15-bit");
  } else {
    payloader = gst_element_factory_make("rtpopuspay", nullptr);  // every packet a whole frame: each a "keyframe"
  }
  if (!payloader) return nullptr;

  int pt = 0;
  gst_structure_get_int(gst_caps_get_structure(s->rtp_caps_.get(), 0), "payload", &pt);
  // The payloaders take only the dynamic range (96-127), and browsers offer
  // types below it too (Chromium: 35-63, e.g. for H.264 High 4:4:4 Predictive,
  // its only payload that takes High): the packets then get the offered type
  // on their way out of the payloader.
  const bool remap = pt < 96 || pt > 127;
  g_object_set(payloader, "pt", guint(remap ? 96 : pt), "ssrc", ssrc, "mtu", 1200u, nullptr);
  if (wall_us_at_zero && clock_rate > 0)
    g_object_set(payloader, "timestamp-offset", wall_clock_rtp_time(*wall_us_at_zero, clock_rate), nullptr);
  g_signal_connect(
      payloader, "request-extension",
      G_CALLBACK(+[](GstElement *, guint id, const gchar *uri, gpointer max_ms) -> GstRTPHeaderExtension * {
        if (g_strcmp0(uri, kTwccUri) == 0) {
          GstRTPHeaderExtension *ext = gst_rtp_header_extension_create_from_uri(uri);
          if (ext) gst_rtp_header_extension_set_id(ext, id);
          return ext;
        }
        if (g_strcmp0(uri, kPlayoutDelayUri) != 0) return nullptr;
        return make_playout_delay_extension(id, GPOINTER_TO_INT(max_ms));
      }),
      GINT_TO_POINTER(format.max_playout_delay_ms));

  GstElement *tee = gst_element_factory_make("tee", nullptr);
  g_object_set(tee, "allow-not-linked", TRUE, nullptr);

  s->bin_ = sink(gst_bin_new(name.c_str()));
  s->tee_ = ref(tee);
  gst_bin_add_many(GST_BIN(s->bin_.get()), payloader, tee, nullptr);
  gst_element_link(payloader, tee);
  auto pay_sink = adopt(gst_element_get_static_pad(payloader, "sink"));
  auto pay_src = adopt(gst_element_get_static_pad(payloader, "src"));
  auto *mark = new KeyMark();  // lives as long as the payloader, after its pads
  mark->remap_pt = remap ? pt : -1;
  g_object_set_data_full(G_OBJECT(payloader), "sightline-key-mark", mark,
                         [](gpointer d) { delete static_cast<KeyMark *>(d); });
  gst_pad_add_probe(pay_sink.get(), GST_PAD_PROBE_TYPE_BUFFER, on_frame, mark, nullptr);
  gst_pad_add_probe(pay_src.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    on_packets, mark, nullptr);
  // Without the profile-level-id: from it the payloader would take the stream's
  // level as the highest it may pass, and a size raised later (a set_video
  // command) would stop the camera; the answer still names the level sent then.
  GstCaps *answered = gst_caps_copy(s->rtp_caps_.get());
  gst_structure_remove_field(gst_caps_get_structure(answered, 0), "profile-level-id");
  if (remap) {
    gst_caps_set_simple(answered, "payload", G_TYPE_INT, 96, nullptr);
    gst_pad_add_probe(pay_src.get(),
                      GstPadProbeType(GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_QUERY_UPSTREAM),
                      remap_caps, ref(s->rtp_caps_.get()).release(), [](gpointer c) { gst_caps_unref(GST_CAPS(c)); });
  }
  gst_pad_add_probe(pay_src.get(), GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, answer_caps_query, answered,
                    [](gpointer c) { gst_caps_unref(GST_CAPS(c)); });
  gst_element_add_pad(s->bin_.get(), gst_ghost_pad_new("sink", pay_sink.get()));
  s->release_ = std::move(release);
  return s;
}

RtpStream::~RtpStream() {
  if (release_) release_(bin_.get());
}

}  // namespace sl::agent
