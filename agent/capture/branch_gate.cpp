#include "branch_gate.hpp"

#include "gst_owned.hpp"

namespace sl::agent {

std::shared_ptr<BranchGate> BranchGate::install(GstPad *tee_pad) {
  std::shared_ptr<BranchGate> gate(new BranchGate(tee_pad));
  gst_pad_add_probe(tee_pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    &BranchGate::on_data, new std::shared_ptr<BranchGate>(gate),
                    [](gpointer data) { delete static_cast<std::shared_ptr<BranchGate> *>(data); });
  return gate;
}

BranchGate::~BranchGate() {
  drop_held();
  g_weak_ref_clear(&tee_pad_);
}

void BranchGate::drop_held() {
  for (GstMiniObject *o : held_) gst_mini_object_unref(o);
  held_.clear();
}

namespace {
// The first packet of a push (a buffer, or a buffer list's first): its flags and time.
GstBuffer *first_packet(GstMiniObject *o) {
  if (GST_IS_BUFFER_LIST(o))
    return gst_buffer_list_length(GST_BUFFER_LIST_CAST(o)) ? gst_buffer_list_get(GST_BUFFER_LIST_CAST(o), 0) : nullptr;
  return GST_BUFFER_CAST(o);
}
}  // namespace

GstPadProbeReturn BranchGate::on_data(GstPad *, GstPadProbeInfo *info, gpointer data) {
  BranchGate &gate = **static_cast<std::shared_ptr<BranchGate> *>(data);
  auto *pushed = static_cast<GstMiniObject *>(GST_PAD_PROBE_INFO_DATA(info));
  GstBuffer *buffer = first_packet(pushed);
  std::lock_guard lock(gate.mutex_);
  const bool key = buffer && !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (!gate.started_ && !key) return GST_PAD_PROBE_DROP;
  gate.started_ = true;
  if (gate.open_) return GST_PAD_PROBE_REMOVE;  // what was held went first: live from here on
  if (!gate.held_.empty()) {
    GstBuffer *oldest = first_packet(gate.held_.front());
    const GstClockTime first = oldest ? GST_BUFFER_PTS(oldest) : GST_CLOCK_TIME_NONE;
    const GstClockTime now = buffer ? GST_BUFFER_PTS(buffer) : GST_CLOCK_TIME_NONE;
    const bool too_old =
        GST_CLOCK_TIME_IS_VALID(first) && GST_CLOCK_TIME_IS_VALID(now) && now > first && now - first > kMaxHeldSpan;
    if (too_old || gate.held_.size() >= kMaxHeldPushes) {
      gate.drop_held();
      if (!key) {
        gate.started_ = false;
        return GST_PAD_PROBE_DROP;
      }
    }
  }
  gate.held_.push_back(gst_mini_object_ref(pushed));
  return GST_PAD_PROBE_DROP;
}

size_t BranchGate::open() {
  std::lock_guard lock(mutex_);
  if (open_) return 0;
  open_ = true;
  const size_t held = held_.size();
  auto tee_pad = adopt(static_cast<GstPad *>(g_weak_ref_get(&tee_pad_)));
  auto branch_sink = tee_pad ? adopt(gst_pad_get_peer(tee_pad.get())) : nullptr;
  if (!branch_sink) {
    drop_held();
    return held;
  }
  // The send thread is either not in the probe or waiting for the lock: these
  // reach the branch before any live frame, and nothing else pushes into it.
  for (GstMiniObject *o : held_) {  // chain takes the reference
    const GstFlowReturn flow = GST_IS_BUFFER_LIST(o) ? gst_pad_chain_list(branch_sink.get(), GST_BUFFER_LIST_CAST(o))
                                                     : gst_pad_chain(branch_sink.get(), GST_BUFFER_CAST(o));
    if (flow != GST_FLOW_OK && flow != GST_FLOW_FLUSHING)
      GST_WARNING_OBJECT(branch_sink.get(), "held packets refused: %s", gst_flow_get_name(flow));
  }
  held_.clear();
  return held;
}

size_t BranchGate::held() const {
  std::lock_guard lock(mutex_);
  return held_.size();
}

}  // namespace sl::agent
