#include "branch_gate.hpp"

namespace sl::agent {

std::shared_ptr<BranchGate> BranchGate::install(GstPad *tee_pad) {
  std::shared_ptr<BranchGate> gate(new BranchGate(tee_pad));
  gst_pad_add_probe(tee_pad, GST_PAD_PROBE_TYPE_BUFFER, &BranchGate::on_buffer,
                    new std::shared_ptr<BranchGate>(gate),
                    [](gpointer data) { delete static_cast<std::shared_ptr<BranchGate> *>(data); });
  return gate;
}

BranchGate::~BranchGate() {
  drop_held();
  g_weak_ref_clear(&tee_pad_);
}

void BranchGate::drop_held() {
  for (GstBuffer *b : held_) gst_buffer_unref(b);
  held_.clear();
}

GstPadProbeReturn BranchGate::on_buffer(GstPad *, GstPadProbeInfo *info, gpointer data) {
  BranchGate &gate = **static_cast<std::shared_ptr<BranchGate> *>(data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  std::lock_guard lock(gate.mutex_);
  const bool key = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  if (!gate.started_ && !key) return GST_PAD_PROBE_DROP;
  gate.started_ = true;
  if (gate.open_) return GST_PAD_PROBE_REMOVE;  // what was held went first: live from here on
  if (!gate.held_.empty()) {
    const GstClockTime first = GST_BUFFER_PTS(gate.held_.front()), now = GST_BUFFER_PTS(buffer);
    const bool too_old = GST_CLOCK_TIME_IS_VALID(first) && GST_CLOCK_TIME_IS_VALID(now) && now > first &&
                         now - first > kMaxHeldSpan;
    if (too_old || gate.held_.size() >= kMaxHeldFrames) {
      gate.drop_held();
      if (!key) {
        gate.started_ = false;
        return GST_PAD_PROBE_DROP;
      }
    }
  }
  gate.held_.push_back(gst_buffer_ref(buffer));
  return GST_PAD_PROBE_DROP;
}

size_t BranchGate::open() {
  std::lock_guard lock(mutex_);
  if (open_) return 0;
  open_ = true;
  const size_t held = held_.size();
  auto *tee_pad = static_cast<GstPad *>(g_weak_ref_get(&tee_pad_));
  GstPad *branch_sink = tee_pad ? gst_pad_get_peer(tee_pad) : nullptr;
  if (tee_pad) gst_object_unref(tee_pad);
  if (!branch_sink) {
    drop_held();
    return held;
  }
  // The send thread is either not in the probe or waiting for the lock: these
  // reach the branch before any live frame, and nothing else pushes into it.
  for (GstBuffer *b : held_) {
    const GstFlowReturn flow = gst_pad_chain(branch_sink, b);  // takes the reference
    if (flow != GST_FLOW_OK && flow != GST_FLOW_FLUSHING)
      GST_WARNING_OBJECT(branch_sink, "held frame refused: %s", gst_flow_get_name(flow));
  }
  held_.clear();
  gst_object_unref(branch_sink);
  return held;
}

size_t BranchGate::held() const {
  std::lock_guard lock(mutex_);
  return held_.size();
}

}  // namespace sl::agent
