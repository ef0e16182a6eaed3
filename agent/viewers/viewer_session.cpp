#include "viewer_session.hpp"

#include "ice_config.hpp"
#include "main_context.hpp"
#include "sdp_payload.hpp"
#include "send_path.hpp"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>


namespace sl::agent {

namespace {

constexpr guint kDisconnectedGraceMs = 10000;

// Signal and promise callbacks run on webrtcbin's threads: they carry the session
// id and the events sink, copy what they need and post to the main loop.
struct Ctx {
  std::shared_ptr<SessionEvents> events;
  std::string id;
};

GstElement *make(const char *factory, const std::string &name) {
  return gst_element_factory_make(factory, name.c_str());
}

}  // namespace

std::variant<std::unique_ptr<ViewerSession>, std::string> ViewerSession::start(CapturePipeline &pipeline,
                                                                               const proto::Offer &offer,
                                                                               const AgentSettings &settings,
                                                                               std::shared_ptr<SessionEvents> events) {
  auto payload = choose_payload(offer.sdp, pipeline.codec());
  if (auto *error = std::get_if<std::string>(&payload)) return *error;
  const PayloadChoice choice = std::get<PayloadChoice>(payload);

  GstSDPMessage *sdp = nullptr;
  if (gst_sdp_message_new_from_text(offer.sdp.c_str(), &sdp) != GST_SDP_OK) {
    if (sdp) gst_sdp_message_free(sdp);  // allocated before parsing failed
    return std::string("the offer is not valid SDP");
  }
  GstWebRTCSessionDescription *remote = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);

  std::unique_ptr<ViewerSession> s(new ViewerSession(pipeline, std::move(events)));
  s->id_ = offer.session;
  s->started_us_ = g_get_monotonic_time();
  s->mline_ = choice.mline;

  // The RTP stream of this format, shared with the viewers who asked for the same.
  std::string error;
  RtpFormat format{choice.rtp_caps, 0, settings.max_playout_delay_ms};
  if (settings.max_playout_delay_ms >= 0) format.playout_delay_id = choice.playout_delay_id;
  s->stream_ = pipeline.rtp_stream(format, error);
  if (!s->stream_) {
    gst_webrtc_session_description_free(remote);
    return error;
  }

  const std::string tag = offer.session.substr(0, 8);
  s->branch_ = sink(gst_bin_new(("branch-" + offer.session).c_str()));
  s->webrtc_ = sink(make("webrtcbin", "webrtc-" + tag));
  if (!s->webrtc_) {
    gst_webrtc_session_description_free(remote);
    s->branch_.reset();
    return std::string("GStreamer's webrtc elements are missing: install gstreamer1.0-plugins-bad and gstreamer1.0-nice");
  }
  gst_util_set_object_arg(G_OBJECT(s->webrtc_.get()), "bundle-policy", "max-bundle");
  if (settings.ice_relay_only) gst_util_set_object_arg(G_OBJECT(s->webrtc_.get()), "ice-transport-policy", "relay");
  gst_bin_add(GST_BIN(s->branch_.get()), s->webrtc_.get());
  // Pointed at webrtcbin's pad for the offer's m-line once the offer is set.
  gst_element_add_pad(s->branch_.get(), gst_ghost_pad_new_no_target("sink", GST_PAD_SINK));

  // ICE: the relay's servers for this session, our own STUN, and the local
  // addresses we may gather on (tests: loopback only).
  std::vector<proto::IceServer> servers = offer.ice_servers;
  for (const auto &url : settings.stun) servers.push_back(proto::IceServer{{url}, "", ""});
  const WebrtcbinIce ice = to_webrtcbin(servers);
  g_debug("session %s: STUN %s, %zu TURN server(s)", s->id_.c_str(),
          ice.stun_server.empty() ? "none" : ice.stun_server.c_str(), ice.turn_servers.size());
  if (!ice.stun_server.empty()) g_object_set(s->webrtc_.get(), "stun-server", ice.stun_server.c_str(), nullptr);
  for (const auto &turn : ice.turn_servers) {
    gboolean added = FALSE;
    g_signal_emit_by_name(s->webrtc_.get(), "add-turn-server", turn.c_str(), &added);
  }
  GstWebRTCICE *agent = nullptr;
  g_object_get(s->webrtc_.get(), "ice-agent", &agent, nullptr);
  if (agent) {
    for (const auto &address : settings.ice_addresses) {
      gboolean ok = FALSE;
      g_signal_emit_by_name(agent, "add-local-ip-address", address.c_str(), &ok);
      if (!ok) g_warning("session %s: cannot restrict ICE to %s", s->id_.c_str(), address.c_str());
    }
    gst_object_unref(agent);
  }

  auto connect = [&](const char *signal, GCallback cb) {
    auto *ctx = new Ctx{s->events_, s->id_};
    s->handlers_.push_back(g_signal_connect_data(s->webrtc_.get(), signal, cb, ctx,
                                                 [](gpointer d, GClosure *) { delete static_cast<Ctx *>(d); },
                                                 GConnectFlags(0)));
  };
  connect("on-ice-candidate", G_CALLBACK(+[](GstElement *, guint mline, gchar *candidate, gpointer data) {
            auto *ctx = static_cast<Ctx *>(data);
            post_to_main([events = ctx->events, id = ctx->id, mline, c = std::string(candidate ? candidate : "")] {
              if (events->candidate) events->candidate(id, int(mline), c);
            });
          }));
  connect("notify::connection-state", G_CALLBACK(+[](GstElement *webrtc, GParamSpec *, gpointer data) {
            auto *ctx = static_cast<Ctx *>(data);
            GstWebRTCPeerConnectionState state;
            g_object_get(webrtc, "connection-state", &state, nullptr);
            post_to_main([events = ctx->events, id = ctx->id, state] {
              if (ViewerSession *live = events->find(id)) live->on_connection_state(int(state));
            });
          }));

  if (!pipeline.add(s->branch_.get(), error)) {
    gst_webrtc_session_description_free(remote);
    s->branch_.reset();
    return error;
  }

  GstPromise *promise = gst_promise_new_with_change_func(
      [](GstPromise *p, gpointer data) {
        const auto *ctx = static_cast<Ctx *>(data);
        const bool ok = gst_promise_wait(p) == GST_PROMISE_RESULT_REPLIED;
        post_to_main([events = ctx->events, id = ctx->id, ok] {
          ViewerSession *live = events->find(id);
          if (!live) return;
          if (ok)
            live->on_remote_description_set();
          else
            live->fail("error");
        });
        gst_promise_unref(p);
      },
      new Ctx{s->events_, s->id_}, [](gpointer d) { delete static_cast<Ctx *>(d); });
  g_signal_emit_by_name(s->webrtc_.get(), "set-remote-description", remote, promise);
  gst_webrtc_session_description_free(remote);
  return s;
}

void ViewerSession::on_remote_description_set() {
  // The offer made a transceiver for its video m-line; the branch's pad leads to it.
  GstPadTemplate *templ = gst_element_get_pad_template(webrtc_.get(), "sink_%u");
  GstCaps *caps = stream_->rtp_caps();
  const std::string pad_name = "sink_" + std::to_string(mline_);
  auto sink_pad = adopt(gst_element_request_pad(webrtc_.get(), templ, pad_name.c_str(), caps));
  auto ghost = adopt(gst_element_get_static_pad(branch_.get(), "sink"));
  if (!sink_pad || !gst_ghost_pad_set_target(GST_GHOST_PAD(ghost.get()), sink_pad.get())) {
    g_warning("session %s: cannot reach webrtcbin's input", id_.c_str());
    fail("error");
    return;
  }
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_object_get(sink_pad.get(), "transceiver", &trans, nullptr);
  if (trans) {
    g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences", caps,
                 "do-nack", TRUE, nullptr);
    gst_object_unref(trans);
  }

  GstPromise *promise = gst_promise_new_with_change_func(
      [](GstPromise *p, gpointer data) {
        const auto *ctx = static_cast<Ctx *>(data);
        GstWebRTCSessionDescription *answer = nullptr;
        if (gst_promise_wait(p) == GST_PROMISE_RESULT_REPLIED) {
          const GstStructure *reply = gst_promise_get_reply(p);
          if (reply) gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
        }
        post_to_main([events = ctx->events, id = ctx->id, answer] {
          ViewerSession *live = events->find(id);
          if (live) live->on_answer_created(answer);
          if (answer) gst_webrtc_session_description_free(answer);
        });
        gst_promise_unref(p);
      },
      new Ctx{events_, id_}, [](gpointer d) { delete static_cast<Ctx *>(d); });
  g_signal_emit_by_name(webrtc_.get(), "create-answer", nullptr, promise);
}

void ViewerSession::on_answer_created(GstWebRTCSessionDescription *answer) {
  if (!answer) {
    g_warning("session %s: webrtcbin could not answer the offer", id_.c_str());
    fail("error");
    return;
  }
  g_signal_emit_by_name(webrtc_.get(), "set-local-description", answer, nullptr);
  const std::string text = take_string(gst_sdp_message_as_text(answer->sdp));
  g_debug("session %s: answer ready %.1f ms after the offer", id_.c_str(), ms_since_start());
  if (!start_feeding()) return;  // before the answer goes: sending may end this session
  // Once the answer is out (sending may end this session, hence by id): webrtcbin
  // connects our pad while ICE and DTLS run, not on the first frame's way.
  post_to_main([events = events_, id = id_] {
    ViewerSession *live = events->find(id);
    if (!live) return;
    send_path::announce_input(live->webrtc_.get(), live->mline_, "sightline-" + id, live->stream_->rtp_caps());
  });
  if (events_->answer) events_->answer(id_, text);
}

void ViewerSession::add_remote_candidate(int mline, const std::string &candidate) {
  if (candidate.empty()) return;  // end of candidates: nothing to do for webrtcbin
  g_signal_emit_by_name(webrtc_.get(), "add-ice-candidate", guint(mline), candidate.c_str());
}

void ViewerSession::on_connection_state(int state) {
  switch (GstWebRTCPeerConnectionState(state)) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
      disconnect_timer_.reset();
      if (!connected_) {
        connected_ = true;
        // Linked since the answer, with a keyframe held at the gate: it goes
        // now. Else (none came yet, or it was held too long) one is asked for.
        if (!start_feeding()) return;
        // Nothing has entered webrtcbin yet (the gate holds it): its path can change.
        trimmed_ = send_path::trim(webrtc_.get(), mline_);
        const size_t held = gate_->open();
        if (!held) pipeline_.force_keyframe();
        g_debug("session %s: DTLS connected %.1f ms after the offer, %zu frame(s) held since the answer",
                id_.c_str(), ms_since_start(), held);
        if (events_->connected) events_->connected(id_);
      }
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
      if (!disconnect_timer_)
        disconnect_timer_.reset(g_timeout_add(
            kDisconnectedGraceMs,
            [](gpointer data) -> gboolean {
              auto *self = static_cast<ViewerSession *>(data);
              self->disconnect_timer_.release();
              self->fail("ice_failed");
              return G_SOURCE_REMOVE;
            },
            this));
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
      fail("ice_failed");
      break;
    default:
      break;
  }
}

// The branch joins the tee as the answer goes out, behind its gate, with a
// keyframe asked for at once: the keyframe is encoded while ICE and DTLS finish
// and waits at the gate (see BranchGate), which opens at DTLS connected, so the
// browser's first frame leaves the moment it can be sent. A negotiation that
// stalls costs what the gate holds, at most half a second of frames.
bool ViewerSession::start_feeding() {
  if (gate_) return true;
  std::string error;
  gate_ = pipeline_.link(branch_.get(), *stream_, error);
  if (!gate_) {
    g_warning("session %s: %s", id_.c_str(), error.c_str());
    fail("error");
    return false;
  }
  pipeline_.force_keyframe();
  return true;
}

void ViewerSession::fail(const std::string &reason) {
  if (failed_) return;
  failed_ = true;
  // Deferred: the owner destroys this session from the callback.
  post_to_main([events = events_, id = id_, reason] {
    if (events->find(id) && events->failed) events->failed(id, reason);
  });
}

ViewerSession::~ViewerSession() {
  disconnect_timer_.reset();
  for (gulong h : handlers_) g_signal_handler_disconnect(webrtc_.get(), h);
  if (branch_) pipeline_.detach(branch_.get());
  stream_.reset();  // after the branch: the last viewer of a stream takes it out
}

}  // namespace sl::agent
