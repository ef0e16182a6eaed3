#include "encoding_switch.hpp"

#include "main_context.hpp"

#include <gst/rtp/rtp.h>
#include <gst/video/video.h>

#include <mutex>
#include <optional>

namespace sl::agent {

struct EncodingSwitch::State {
  std::mutex mutex;
  Owned<GstPad> out;  // what the full stream's tee pad pushes into (towards the branch)
  guint32 ssrc = 0;
  std::function<void(Encoding)> switched;
  std::function<void()> lower_keyframe;
  Encoding active = Full, wanted = Full;
  bool handing = false;  // from the first use on, the switch hands every packet on itself
  bool have_out = false;
  guint16 last_out = 0;  // the last sequence number the viewer got
  guint16 offset[2] = {0, 0};
  bool switched_ever = false;
  guint16 first_of_active = 0;  // the viewer's sequence number of the first packet since the last switch

  GstPadProbeReturn take(Encoding from, GstPadProbeInfo *info);
};

namespace {

GstBuffer *first_packet(GstMiniObject *o) {
  if (GST_IS_BUFFER_LIST(o))
    return gst_buffer_list_length(GST_BUFFER_LIST_CAST(o)) ? gst_buffer_list_get(GST_BUFFER_LIST_CAST(o), 0) : nullptr;
  return GST_BUFFER_CAST(o);
}

GstBuffer *last_packet(GstMiniObject *o) {
  if (!GST_IS_BUFFER_LIST(o)) return GST_BUFFER_CAST(o);
  const guint n = gst_buffer_list_length(GST_BUFFER_LIST_CAST(o));
  return n ? gst_buffer_list_get(GST_BUFFER_LIST_CAST(o), n - 1) : nullptr;
}

std::optional<guint16> seq_of(GstBuffer *packet) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!packet || !gst_rtp_buffer_map(packet, GST_MAP_READ, &rtp)) return std::nullopt;
  const guint16 seq = gst_rtp_buffer_get_seq(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  return seq;
}

// Writes the viewer's sequence number and SSRC into a packet (its header's
// memory is copied when shared: the other viewers' packets stay as they were).
void renumber(GstBuffer *packet, guint16 offset, guint32 ssrc, guint16 &last_out) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(packet, GST_MAP_READWRITE, &rtp)) return;
  last_out = guint16(gst_rtp_buffer_get_seq(&rtp) + offset);
  gst_rtp_buffer_set_seq(&rtp, last_out);
  gst_rtp_buffer_set_ssrc(&rtp, ssrc);
  gst_rtp_buffer_unmap(&rtp);
}

}  // namespace

GstPadProbeReturn EncodingSwitch::State::take(Encoding from, GstPadProbeInfo *info) {
  auto *pushed = static_cast<GstMiniObject *>(GST_PAD_PROBE_INFO_DATA(info));
  std::lock_guard lock(mutex);
  GstBuffer *first = first_packet(pushed);
  if (!first) return from == active && !handing ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
  if (from != active) {
    if (from != wanted || GST_BUFFER_FLAG_IS_SET(first, GST_BUFFER_FLAG_DELTA_UNIT)) return GST_PAD_PROBE_DROP;
    auto seq = seq_of(first);
    if (!seq) return GST_PAD_PROBE_DROP;
    offset[from] = have_out ? guint16(last_out + 1 - *seq) : 0;
    first_of_active = guint16(*seq + offset[from]);
    switched_ever = true;
    active = from;
    if (switched) post_to_main([call = switched, from] { call(from); });
  }
  if (!handing) {  // the full stream, untouched: only its numbers are followed
    if (auto seq = seq_of(last_packet(pushed))) {
      last_out = *seq;
      have_out = true;
    }
    return GST_PAD_PROBE_OK;
  }
  // Our own reference: the probe's is dropped with the push.
  GstMiniObject *own = gst_mini_object_ref(pushed);
  GstFlowReturn flow = GST_FLOW_OK;
  if (GST_IS_BUFFER_LIST(own)) {
    GstBufferList *list = gst_buffer_list_make_writable(GST_BUFFER_LIST_CAST(own));
    for (guint i = 0; i < gst_buffer_list_length(list); ++i)
      renumber(gst_buffer_list_get_writable(list, i), offset[from], ssrc, last_out);
    flow = gst_pad_chain_list(out.get(), list);
  } else {
    GstBuffer *packet = gst_buffer_make_writable(GST_BUFFER_CAST(own));
    renumber(packet, offset[from], ssrc, last_out);
    flow = gst_pad_chain(out.get(), packet);
  }
  have_out = true;
  if (flow != GST_FLOW_OK && flow != GST_FLOW_FLUSHING && flow != GST_FLOW_NOT_LINKED)
    GST_DEBUG_OBJECT(out.get(), "viewer's packets refused: %s", gst_flow_get_name(flow));
  return GST_PAD_PROBE_DROP;
}

std::unique_ptr<EncodingSwitch> EncodingSwitch::install(GstPad *full_tee_pad, guint32 ssrc,
                                                        std::function<void(Encoding now)> switched) {
  auto out = adopt(gst_pad_get_peer(full_tee_pad));
  if (!out) return nullptr;
  std::unique_ptr<EncodingSwitch> s(new EncodingSwitch());
  s->state_ = std::make_shared<State>();
  s->state_->out = std::move(out);
  s->state_->ssrc = ssrc;
  s->state_->switched = std::move(switched);
  s->full_pad_ = ref(full_tee_pad);
  s->full_probe_ = gst_pad_add_probe(
      full_tee_pad,
      GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_UPSTREAM),
      [](GstPad *, GstPadProbeInfo *info, gpointer data) -> GstPadProbeReturn {
        State &state = **static_cast<std::shared_ptr<State> *>(data);
        if (!(GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_UPSTREAM)) return state.take(Full, info);
        if (!gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info))) return GST_PAD_PROBE_OK;
        std::function<void()> ask;
        {
          std::lock_guard lock(state.mutex);
          if (state.active == Full && state.wanted == Full) return GST_PAD_PROBE_OK;
          ask = state.lower_keyframe;
        }
        if (ask) ask();
        return GST_PAD_PROBE_DROP;  // the full encoder need not make one for this viewer
      },
      new std::shared_ptr<State>(s->state_), [](gpointer data) { delete static_cast<std::shared_ptr<State> *>(data); });
  return s;
}

void EncodingSwitch::guard_retransmissions(GstElement *rtx_sender) {
  if (rtx_probe_ || !rtx_sender) return;
  rtx_pad_ = adopt(gst_element_get_static_pad(rtx_sender, "src"));
  if (!rtx_pad_) return;
  rtx_probe_ = gst_pad_add_probe(
      rtx_pad_.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      [](GstPad *, GstPadProbeInfo *info, gpointer data) -> GstPadProbeReturn {
        State &state = **static_cast<std::shared_ptr<State> *>(data);
        const GstStructure *s = gst_event_get_structure(GST_PAD_PROBE_INFO_EVENT(info));
        guint seq = 0, ssrc = 0;
        if (!s || !gst_structure_has_name(s, "GstRTPRetransmissionRequest") ||
            !gst_structure_get_uint(s, "seqnum", &seq) || !gst_structure_get_uint(s, "ssrc", &ssrc))
          return GST_PAD_PROBE_OK;
        std::lock_guard lock(state.mutex);
        const bool stale =
            ssrc == state.ssrc && state.switched_ever && gint16(guint16(seq) - state.first_of_active) < 0;
        return stale ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
      },
      new std::shared_ptr<State>(state_), [](gpointer data) { delete static_cast<std::shared_ptr<State> *>(data); });
}

EncodingSwitch::~EncodingSwitch() {
  if (rtx_probe_) gst_pad_remove_probe(rtx_pad_.get(), rtx_probe_);
  if (lower_probe_) gst_pad_remove_probe(lower_pad_.get(), lower_probe_);
  if (full_probe_) gst_pad_remove_probe(full_pad_.get(), full_probe_);
}

void EncodingSwitch::to_lower(std::shared_ptr<RtpStream> lower, std::function<void()> ask_keyframe) {
  if (lower != lower_) {
    let_go_of_lower();
    lower_ = std::move(lower);
    lower_pad_ = adopt(gst_element_get_static_pad(lower_->tee(), "sink"));
    lower_probe_ = gst_pad_add_probe(
        lower_pad_.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        [](GstPad *, GstPadProbeInfo *info, gpointer data) -> GstPadProbeReturn {
          (*static_cast<std::shared_ptr<State> *>(data))->take(Lower, info);
          return GST_PAD_PROBE_OK;  // the stream's tee goes on (it feeds no pad of its own)
        },
        new std::shared_ptr<State>(state_), [](gpointer data) { delete static_cast<std::shared_ptr<State> *>(data); });
  }
  std::lock_guard lock(state_->mutex);
  state_->handing = true;
  state_->wanted = Lower;
  state_->lower_keyframe = std::move(ask_keyframe);
}

void EncodingSwitch::to_full() {
  bool on_full = false;
  {
    std::lock_guard lock(state_->mutex);
    state_->wanted = Full;
    on_full = state_->active == Full;
  }
  if (on_full) let_go_of_lower();
}

void EncodingSwitch::let_go_of_lower() {
  if (lower_probe_) gst_pad_remove_probe(lower_pad_.get(), lower_probe_);
  lower_probe_ = 0;
  lower_pad_.reset();
  lower_.reset();
}

EncodingSwitch::Encoding EncodingSwitch::wanted() const {
  std::lock_guard lock(state_->mutex);
  return state_->wanted;
}

EncodingSwitch::Encoding EncodingSwitch::active() const {
  std::lock_guard lock(state_->mutex);
  return state_->active;
}

}  // namespace sl::agent
