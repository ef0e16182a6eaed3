#include "viewer_session.hpp"

#include "address_watch.hpp"
#include "capture/keyframe_requests.hpp"
#include "capture/webrtcbin_ice.hpp"
#include "ice_restart.hpp"
#include "main_context.hpp"
#include "sdp_payload.hpp"
#include "send_path.hpp"

#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <mutex>

GST_DEBUG_CATEGORY_STATIC(sl_session_debug);
#define GST_CAT_DEFAULT sl_session_debug

namespace sl::agent {

namespace {

constexpr guint kDisconnectedGraceMs = 10000;
// A viewer that never connects ends its session: one that vanished between its
// offer and its first check (a WHEP player gone after its POST) sends nothing that
// could fail, and webrtcbin would wait for it for ever. Pages connect in well
// under a second; ICE through TURN over TCP in a few.
constexpr guint kConnectDeadlineMs = 30000;
// A connected viewer reports (RTCP SR/RR) every second or so (Chromium), every 5 s
// at most on average (RFC 3550's minimum, what GStreamer players use, jittered to
// 7.5 s): one silent this long is gone. RFC 3550 itself says 5 intervals (25 s).
constexpr gint64 kSilenceLimitUs = 20 * G_USEC_PER_SEC;
constexpr guint kSilenceCheckMs = 2000;

// Signal and promise callbacks run on webrtcbin's threads: they carry the session
// id and the events sink, copy what they need and post to the main loop.
struct Ctx {
  std::shared_ptr<SessionEvents> events;
  std::string id;
  uint64_t serial;
};
void delete_ctx(gpointer data) { delete static_cast<Ctx *>(data); }
// The live session `id`, if it is still the one that posted: a session renewed on
// a new connection keeps its id, and what its old branch posted is not its own.
ViewerSession *still(const SessionEvents &events, const std::string &id, uint64_t serial) {
  ViewerSession *live = events.find(id);
  return live && live->serial() == serial ? live : nullptr;
}

Result<Owned<GstWebRTCSessionDescription>> parse_offer(const std::string &text) {
  GstSDPMessage *raw = nullptr;
  const GstSDPResult parsed = gst_sdp_message_new_from_text(text.c_str(), &raw);
  Owned<GstSDPMessage> sdp(raw);  // allocated even when parsing fails
  if (parsed != GST_SDP_OK) return fail("the offer is not valid SDP");
  // The description takes the message over.
  return adopt(gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp.release()));
}

}  // namespace

Result<std::unique_ptr<ViewerSession>> ViewerSession::start(CapturePipeline &pipeline, const proto::Offer &offer,
                                                            const AgentSettings &settings,
                                                            std::shared_ptr<SessionEvents> events) {
  static const bool category = [] {
    GST_DEBUG_CATEGORY_INIT(sl_session_debug, "sightline-session", 0, "Sightline: viewer sessions");
    return true;
  }();
  (void)category;
  auto payload = choose_payload(offer.sdp, pipeline.codec(), pipeline.sent_profile().value_or(kDefaultSentProfile));
  if (!payload) return fail(payload.error());
  if (!payload->note.empty()) g_warning("session %s: %s", offer.session.c_str(), payload->note.c_str());
  auto remote = parse_offer(offer.sdp);
  if (!remote) return fail(remote.error());

  std::unique_ptr<ViewerSession> s(new ViewerSession(pipeline, std::move(events)));
  s->id_ = offer.session;
  s->started_us_ = g_get_monotonic_time();
  s->connect_timer_.reset(g_timeout_add(
      kConnectDeadlineMs,
      [](gpointer data) -> gboolean {
        auto *self = static_cast<ViewerSession *>(data);
        self->connect_timer_.release();
        if (!self->connected_) self->give_up("connect_timeout");
        return G_SOURCE_REMOVE;
      },
      s.get()));
  s->mline_ = payload->mline;
  s->feed_ = offer.feed;

  // Sound too, when the camera has it and the viewer asked for it; and the
  // viewer's own sound to the camera's speaker, when it has one and the relay
  // says this viewer may talk (operator role).
  const auto &info = pipeline.info();
  const bool may_talk = offer.talk && info.talk;
  if (!info.audio.empty() || may_talk)
    if (auto audio = choose_audio_payload(offer.sdp)) {
      if (!info.audio.empty()) {
        auto audio_stream = pipeline.audio_rtp_stream(RtpFormat{audio->rtp_caps});
        if (!audio_stream) return fail(audio_stream.error());
        s->audio_stream_ = *std::move(audio_stream);
      }
      s->audio_mline_ = audio->mline;
      s->audio_caps_ = adopt(gst_caps_from_string(audio->rtp_caps.c_str()));
      s->talk_ = may_talk;
    }

  // The RTP stream of this format, shared with the viewers who asked for the same.
  // With sound, the browser may hold the picture as long as lip sync needs (it
  // delays whichever plays earlier): "show each frame at once" (0, the default)
  // would play the picture some 90 ms ahead of its sound (test
  // sound_and_picture_play_in_step). A maximum set above 0 is kept.
  const int max_delay = s->audio_stream_ && settings.max_playout_delay_ms == 0 ? -1 : settings.max_playout_delay_ms;
  RtpFormat format{payload->rtp_caps, 0, max_delay};
  if (max_delay >= 0) format.playout_delay_id = payload->playout_delay_id;
  // Congestion feedback (transport-cc) only where something can follow it: not
  // for a fan-out worker (docs/fanout.md), where reading each viewer's feedback
  // was about 0.35% of a core per viewer (docs/benchmarks.md, "Fan-out").
  const unsigned twcc_id = pipeline.reads_congestion_feedback() ? payload->twcc_id : 0;
  format.twcc_id = twcc_id;
  auto stream = pipeline.rtp_stream(format);
  if (!stream) return fail(stream.error());
  s->stream_ = *std::move(stream);
  s->format_ = format;

  if (auto made = s->make_branch(settings); !made) return fail(made.error());
  s->configure_ice(offer.ice_servers, settings);
  s->connect_signals();
  s->congestion_feedback_ = twcc_id != 0;
  s->media_pt_ = payload->pt;
  if (s->talk_) s->hear_talk(pipeline.talk_chain(s->id_.substr(0, 8)));
  if (auto added = pipeline.add(s->branch_.get()); !added) {
    s->branch_.reset();  // never in the pipeline: nothing to detach
    return fail(added.error());
  }
  GST_DEBUG("session %s: branch added, setting the offer", s->id_.c_str());
  auto set = s->promise(&ViewerSession::on_remote_description_set);
  g_signal_emit_by_name(s->webrtc_.get(), "set-remote-description", remote->get(), set.get());
  return s;
}

Result<void> ViewerSession::make_branch(const AgentSettings &settings) {
  // Named for the session, and for this branch of it: a session renewed on a new
  // connection has its new branch in the pipeline before the old one leaves.
  branch_ = sink(gst_bin_new(("branch-" + id_ + "-" + std::to_string(serial_)).c_str()));
  webrtc_ = sink(gst_element_factory_make("webrtcbin", ("webrtc-" + id_.substr(0, 8)).c_str()));
  if (!webrtc_) {
    branch_.reset();
    return fail("GStreamer's webrtc elements are missing: install gstreamer1.0-plugins-bad and gstreamer1.0-nice");
  }
  gst_util_set_object_arg(G_OBJECT(webrtc_.get()), "bundle-policy", "max-bundle");
  if (settings.ice_relay_only) gst_util_set_object_arg(G_OBJECT(webrtc_.get()), "ice-transport-policy", "relay");
  // Sender reports map each stream's RTP time to when it was captured, not sent:
  // the sound leaves some 20 ms after its capture (Opus frames), the picture
  // sooner, and browsers sync the two from these reports.
  // (webrtcbin's rtpbin, kept: its RTCP also says when the viewer is gone, connect_signals.)
  rtpbin_ = adopt(gst_bin_get_by_name(GST_BIN(webrtc_.get()), "rtpbin"));
  if (rtpbin_) g_object_set(rtpbin_.get(), "rtcp-sync-send-time", FALSE, nullptr);
  gst_bin_add(GST_BIN(branch_.get()), webrtc_.get());
  // Pointed at webrtcbin's pad for the offer's m-line once the offer is set.
  gst_element_add_pad(branch_.get(), gst_ghost_pad_new_no_target("sink", GST_PAD_SINK));
  if (audio_stream_) gst_element_add_pad(branch_.get(), gst_ghost_pad_new_no_target("audio_sink", GST_PAD_SINK));
  return ok();
}

// The session's ICE servers (the relay's for this session, and our own STUN),
// and the local addresses we may gather on (tests: loopback only).
void ViewerSession::configure_ice(const std::vector<proto::IceServer> &offered, const AgentSettings &settings) {
  std::vector<proto::IceServer> servers = offered;
  for (const auto &url : settings.stun) servers.push_back(proto::IceServer{{url}, "", ""});
  configure_webrtcbin_ice(webrtc_.get(), servers, settings.ice_addresses, "session " + id_);
}

// The viewer's sound (talk-back): webrtcbin adds a source pad for it when its
// first packet arrives, on a streaming thread; it is played through `chain`
// (CapturePipeline::talk_chain), a bin inside the session's branch, so it goes
// with the session.
void ViewerSession::hear_talk(const std::string &chain) {
  struct Talk {
    GstElement *branch;  // outlives webrtcbin's signals: webrtcbin is inside it
    std::string chain;
    std::string id;
  };
  handlers_.push_back(g_signal_connect_data(
      webrtc_.get(), "pad-added", G_CALLBACK(+[](GstElement *, GstPad *pad, gpointer data) {
        const auto *talk = static_cast<Talk *>(data);
        if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
        GError *raw = nullptr;
        GstElement *bin = gst_parse_bin_from_description(talk->chain.c_str(), TRUE, &raw);
        Owned<GError> error(raw);
        if (!bin) {
          g_warning("session %s: talk-back cannot play: %s", talk->id.c_str(), error ? error->message : "?");
          return;
        }
        gst_bin_add(GST_BIN(talk->branch), bin);
        auto sink = adopt(gst_element_get_static_pad(bin, "sink"));
        if (GST_PAD_LINK_FAILED(gst_pad_link(pad, sink.get()))) {
          g_warning("session %s: talk-back's sound does not fit the speaker's chain", talk->id.c_str());
          return;
        }
        gst_element_sync_state_with_parent(bin);
        g_message("session %s: talk-back: the viewer's sound plays on the camera's speaker", talk->id.c_str());
      }),
      new Talk{branch_.get(), chain, id_}, [](gpointer d, GClosure *) { delete static_cast<Talk *>(d); },
      GConnectFlags(0)));
}

void ViewerSession::connect_signals() {
  auto connect = [this](const char *signal, GCallback cb) {
    handlers_.push_back(g_signal_connect_data(
        webrtc_.get(), signal, cb, new Ctx{events_, id_, serial_}, [](gpointer d, GClosure *) { delete_ctx(d); },
        GConnectFlags(0)));
  };
  connect("on-ice-candidate", G_CALLBACK(+[](GstElement *, guint mline, gchar *candidate, gpointer data) {
            auto *ctx = static_cast<Ctx *>(data);
            post_to_main([events = ctx->events, id = ctx->id, serial = ctx->serial, mline,
                          c = std::string(candidate ? candidate : "")] {
              ViewerSession *live = still(*events, id, serial);
              if (!live) return;
              live->local_candidates_.emplace_back(int(mline), c);
              if (events->candidate) events->candidate(id, int(mline), c);
            });
          }));
  connect("notify::connection-state", G_CALLBACK(+[](GstElement *webrtc, GParamSpec *, gpointer data) {
            auto *ctx = static_cast<Ctx *>(data);
            GstWebRTCPeerConnectionState state;
            g_object_get(webrtc, "connection-state", &state, nullptr);
            post_to_main([events = ctx->events, id = ctx->id, serial = ctx->serial, state] {
              if (ViewerSession *live = still(*events, id, serial)) live->on_connection_state(int(state));
            });
          }));
  // A viewer that vanishes without a word (a suspended laptop, a killed browser, a
  // WHEP player gone without DELETE) leaves ICE "connected" for ever: webrtcbin 1.22
  // runs no consent checks. Its RTCP reports stop, though: rtpbin says each one it
  // hears from a remote source (on-ssrc-active, one per SR/RR), and the session ends
  // when none came for kSilenceLimitUs (watch_silence). Our own clock, not rtpbin's
  // source timeouts: those come while the source is still listed, and a count taken
  // on the main loop could still see it.
  if (!rtpbin_) {
    g_warning("session %s: webrtcbin has no rtpbin: a viewer that vanishes is not noticed", id_.c_str());
    return;
  }
  using Heard = std::shared_ptr<std::atomic<gint64>>;
  rtpbin_handlers_.push_back(g_signal_connect_data(
      rtpbin_.get(), "on-ssrc-active", G_CALLBACK(+[](GstElement *, guint, guint, gpointer data) {
        static_cast<Heard *>(data)->get()->store(g_get_monotonic_time(), std::memory_order_relaxed);
      }),
      new Heard(heard_us_), [](gpointer d, GClosure *) { delete static_cast<Heard *>(d); }, GConnectFlags(0)));
}

// The viewer's feedback, read from its video sink pad (link_estimate.hpp), gives
// a target for its path; each new one reaches the sessions on the main loop.
void ViewerSession::estimate_link() {
  const int ceiling = link_ceiling_bps_ ? link_ceiling_bps_ : path_ceiling_bps(pipeline_.bitrate_kbps());
  if (ceiling <= 0) return;
  GccEstimator::Limits limits;
  limits.max_bps = ceiling;
  limits.start_bps = ceiling;  // as before adaptation: a good path loses nothing at the start
  limits.min_bps = std::min(limits.min_bps, ceiling);
  link_ = std::make_unique<LinkEstimate>(limits, media_pt_, [events = events_, id = id_, serial = serial_](int bps) {
    post_to_main([events, id, serial, bps] {
      ViewerSession *live = still(*events, id, serial);
      if (!live) return;
      if (!live->link_target_bps_)
        g_message("session %s: congestion feedback from the viewer: its path carries %d kbit/s or more", id.c_str(),
                  bps / 1000);
      GST_DEBUG("session %s: the viewer's path carries %d kbit/s", id.c_str(), bps / 1000);
      live->link_target_bps_ = bps;
      if (events->link_target) events->link_target(id, bps);
    });
  });
  const std::string name = "sink_" + std::to_string(mline_);
  if (auto pad = adopt(gst_element_get_static_pad(webrtc_.get(), name.c_str())))
    link_->watch(pad.get());
  else
    link_.reset();
}

// The viewer's keyframe requests leave webrtcbin up its video sink pad; past
// its first, one per keyframe interval goes on (keyframe_requests.hpp).
void ViewerSession::limit_keyframe_requests() {
  const std::string name = "sink_" + std::to_string(mline_);
  auto pad = adopt(gst_element_get_static_pad(webrtc_.get(), name.c_str()));
  if (!pad) return;
  struct Limit {
    std::mutex mutex;
    ViewerKeyframeRequests requests;
    std::string session;
  };
  const int64_t interval_us = int64_t(std::max(1, pipeline_.keyframe_interval_s())) * G_USEC_PER_SEC;
  gst_pad_add_probe(
      pad.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      [](GstPad *, GstPadProbeInfo *info, gpointer data) -> GstPadProbeReturn {
        if (!gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info))) return GST_PAD_PROBE_OK;
        auto *limit = static_cast<Limit *>(data);
        std::lock_guard lock(limit->mutex);
        if (limit->requests.request(g_get_monotonic_time())) return GST_PAD_PROBE_OK;
        GST_DEBUG("session %s: keyframe request dropped: it waits for the camera's next keyframe",
                  limit->session.c_str());
        return GST_PAD_PROBE_DROP;
      },
      new Limit{{}, ViewerKeyframeRequests(interval_us), id_}, [](gpointer d) { delete static_cast<Limit *>(d); });
}

void ViewerSession::watch_silence() {
  heard_us_->store(g_get_monotonic_time(), std::memory_order_relaxed);  // connected: heard now
  silence_timer_.reset(g_timeout_add(
      kSilenceCheckMs,
      [](gpointer data) -> gboolean {
        auto *self = static_cast<ViewerSession *>(data);
        const gint64 quiet_us = g_get_monotonic_time() - self->heard_us_->load(std::memory_order_relaxed);
        if (quiet_us < kSilenceLimitUs) return G_SOURCE_CONTINUE;
        g_message("session %s: no RTCP from the viewer for %.0f s: it is gone", self->id_.c_str(),
                  double(quiet_us) / 1e6);
        self->silence_timer_.release();
        self->give_up("viewer_silent");
        return G_SOURCE_REMOVE;
      },
      this));
}

// A promise for one of webrtcbin's steps: its outcome (the reply, or null when
// it failed) reaches `then` of the live session on the main loop. webrtcbin
// keeps its own reference while it works; ours goes with the returned owner.
Owned<GstPromise> ViewerSession::promise(void (ViewerSession::*then)(const GstStructure *reply)) {
  struct Step : Ctx {
    void (ViewerSession::*then)(const GstStructure *);
  };
  return adopt(gst_promise_new_with_change_func(
      [](GstPromise *p, gpointer data) {
        const auto *step = static_cast<Step *>(data);
        const bool replied = gst_promise_wait(p) == GST_PROMISE_RESULT_REPLIED;
        // The reply belongs to the promise: copied for the main loop.
        const GstStructure *reply = replied ? gst_promise_get_reply(p) : nullptr;
        std::shared_ptr<GstStructure> copy(
            replied ? (reply ? gst_structure_copy(reply) : gst_structure_new_empty("empty")) : nullptr,
            Unref<GstStructure>());
        post_to_main([events = step->events, id = step->id, serial = step->serial, then = step->then, copy] {
          if (ViewerSession *live = still(*events, id, serial)) (live->*then)(copy.get());
        });
      },
      new Step{{events_, id_, serial_}, then}, [](gpointer d) { delete static_cast<Step *>(d); }));
}

void ViewerSession::on_remote_description_set(const GstStructure *reply) {
  if (!reply || gst_structure_has_field(reply, "error")) {
    g_warning("session %s: webrtcbin refused the offer", id_.c_str());
    give_up("error");
    return;
  }
  // The offer made a transceiver for each m-line; the branch's pads lead to them.
  // Retransmissions for video; sound plays through a loss (Opus conceals it).
  const auto audio_direction =
      talk_ ? GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV : GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY;
  if (!connect_input("sink", mline_, stream_->rtp_caps(), true, GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY) ||
      (audio_stream_ &&
       !connect_input("audio_sink", audio_mline_, audio_stream_->rtp_caps(), false, audio_direction))) {
    g_warning("session %s: cannot reach webrtcbin's input", id_.c_str());
    give_up("error");
    return;
  }
  if (congestion_feedback_) estimate_link();
  // A forwarder (the relay's fan-out worker, a WHEP client) asks on behalf of each
  // viewer joining it: limited here, they waited for the camera's next scheduled
  // keyframe. (The pipeline still coalesces and rate-limits every request.)
  if (!feed_) limit_keyframe_requests();
  if (talk_ && !audio_stream_) {
    // A speaker and no microphone: the viewer's sound comes in, none goes out.
    GstWebRTCRTPTransceiver *raw = nullptr;
    g_signal_emit_by_name(webrtc_.get(), "get-transceiver", gint(audio_mline_), &raw);
    if (auto trans = adopt(raw))
      g_object_set(trans.get(), "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, "codec-preferences",
                   audio_caps_.get(), nullptr);
  }
  auto created = promise(&ViewerSession::on_answer_created);
  g_signal_emit_by_name(webrtc_.get(), "create-answer", nullptr, created.get());
}

bool ViewerSession::connect_input(const char *pad, unsigned mline, GstCaps *caps, bool nack,
                                  GstWebRTCRTPTransceiverDirection direction) {
  GstPadTemplate *templ = gst_element_get_pad_template(webrtc_.get(), "sink_%u");
  const std::string pad_name = "sink_" + std::to_string(mline);
  auto sink_pad = adopt(gst_element_request_pad(webrtc_.get(), templ, pad_name.c_str(), caps));
  auto ghost = adopt(gst_element_get_static_pad(branch_.get(), pad));
  if (!sink_pad || !ghost || !gst_ghost_pad_set_target(GST_GHOST_PAD(ghost.get()), sink_pad.get())) return false;
  GstWebRTCRTPTransceiver *raw = nullptr;
  g_object_get(sink_pad.get(), "transceiver", &raw, nullptr);
  if (auto trans = adopt(raw))
    g_object_set(trans.get(), "direction", direction, "codec-preferences", caps, "do-nack", gboolean(nack), nullptr);
  return true;
}

Result<void> ViewerSession::restart(const std::string &sdp) {
  if (renegotiating_) return fail("a restart is already under way");
  auto remote = parse_offer(sdp);
  if (!remote) return fail(remote.error());
  // webrtcbin keeps its own credentials and takes the viewer's new ones; its ICE
  // agent restarts (ice_restart.hpp) so that the pair the viewer nominates from
  // where it is now replaces the old one. Until then the old path may look
  // disconnected: not a failure.
  if (auto restarted = restart_ice_agent(webrtc_.get()); !restarted) return restarted;
  renegotiating_ = true;
  ++restarts_;
  disconnect_timer_.reset();
  restarted_us_ = g_get_monotonic_time();
  g_message("session %s: the viewer restarts ICE (restart %d)", id_.c_str(), restarts_);
  auto set = promise(&ViewerSession::on_restart_offer_set);
  g_signal_emit_by_name(webrtc_.get(), "set-remote-description", remote->get(), set.get());
  return ok();
}

void ViewerSession::on_restart_offer_set(const GstStructure *reply) {
  if (!reply || gst_structure_has_field(reply, "error")) {
    const GError *error = nullptr;
    if (reply) gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
    g_warning("session %s: webrtcbin refused the restart's offer%s%s", id_.c_str(), error ? ": " : "",
              error ? error->message : "");
    give_up("restart_failed");
    return;
  }
  auto created = promise(&ViewerSession::on_answer_created);
  g_signal_emit_by_name(webrtc_.get(), "create-answer", nullptr, created.get());
}

void ViewerSession::on_answer_created(const GstStructure *reply) {
  GstWebRTCSessionDescription *raw = nullptr;
  if (reply) gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &raw, nullptr);
  auto answer = adopt(raw);
  if (!answer) {
    g_warning("session %s: webrtcbin could not answer the offer", id_.c_str());
    give_up("error");
    return;
  }
  // RTP timestamps on the wall clock (RFC 7273): the page plays in step from them (docs/playback-sync.md).
  const auto say_media_clock = [&](unsigned mline, const RtpStream &stream) {
    if (stream.reference_clock().empty() || mline >= gst_sdp_message_medias_len(answer->sdp)) return;
    auto *media = const_cast<GstSDPMedia *>(gst_sdp_message_get_media(answer->sdp, mline));
    gst_sdp_media_add_attribute(media, "ts-refclk", stream.reference_clock().c_str());
    gst_sdp_media_add_attribute(media, "mediaclk", "direct=0");
  };
  say_media_clock(mline_, *stream_);
  if (audio_stream_) say_media_clock(audio_mline_, *audio_stream_);
  auto set = promise(&ViewerSession::on_local_description_set);
  g_signal_emit_by_name(webrtc_.get(), "set-local-description", answer.get(), set.get());
  const std::string text = take_string(gst_sdp_message_as_text(answer->sdp));
  GST_DEBUG("session %s: answer ready %.1f ms after the offer", id_.c_str(), ms_since_start());
  GST_LOG("session %s: answer:\n%s", id_.c_str(), text.c_str());
  if (renegotiating_) {  // the branch is fed already
    renegotiating_ = false;
    if (events_->answer) events_->answer(id_, text);
    // The viewer's restart dropped our candidates with its old credentials, and
    // webrtcbin gathers no new ones: the same again, for the new generation.
    if (events_->candidate)
      for (const auto &[mline, candidate] : local_candidates_) events_->candidate(id_, mline, candidate);
    return;
  }
  // Once the answer is out (sending may end this session, hence by id): webrtcbin
  // connects our pad while ICE and DTLS run, not on the first frame's way, and
  // then the branch is fed. In that order: the tee's own stream-start, caps and
  // segment reach the pad with the first frame after the link, on the send
  // thread, and must not race webrtcbin connecting it from here.
  post_to_main([events = events_, id = id_, serial = serial_] {
    ViewerSession *live = still(*events, id, serial);
    if (!live) return;
    send_path::announce_input(live->webrtc_.get(), live->mline_, "sightline-" + id, live->stream_->rtp_caps());
    if (live->audio_stream_)
      send_path::announce_input(live->webrtc_.get(), live->audio_mline_, "sightline-audio-" + id,
                                live->audio_stream_->rtp_caps());
    live->start_feeding();
  });
  if (events_->answer) events_->answer(id_, text);
}

void ViewerSession::on_local_description_set(const GstStructure *reply) {
  if (reply && !gst_structure_has_field(reply, "error")) return;
  g_warning("session %s: webrtcbin refused its own answer", id_.c_str());
  give_up("error");
}

void ViewerSession::add_remote_candidate(int mline, const std::string &candidate) {
  if (candidate.empty()) return;  // end of candidates: nothing to do for webrtcbin
  g_signal_emit_by_name(webrtc_.get(), "add-ice-candidate", guint(mline), candidate.c_str());
}

void ViewerSession::on_connection_state(int state) {
  switch (GstWebRTCPeerConnectionState(state)) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
      disconnect_timer_.reset();
      connect_timer_.reset();
      if (restarted_us_) {
        g_message("session %s: connected again %.0f ms after the viewer's restart", id_.c_str(),
                  double(g_get_monotonic_time() - restarted_us_) / 1000.0);
        restarted_us_ = 0;
        // What was sent meanwhile is lost: a keyframe now, not at the next one due
        // (past its first, this viewer's own requests wait for that), from the
        // encoding it is on.
        if (on_lower())
          pipeline_.lower_keyframe_request()();
        else
          pipeline_.force_keyframe();
      }
      if (!connected_) {
        connected_ = true;
        // Linked since the answer, with a keyframe held at the gate: it goes
        // now. Else (none came yet, or it was held too long) one is asked for.
        if (!start_feeding()) return;
        // Nothing has entered webrtcbin yet (the gate holds it): its path can change.
        trimmed_ = send_path::trim(webrtc_.get(), mline_);
        if (audio_gate_) {
          send_path::trim(webrtc_.get(), audio_mline_);
          audio_gate_->open();
        }
        const size_t held = gate_->open();
        if (!held) pipeline_.force_keyframe();
        GST_DEBUG("session %s: DTLS connected %.1f ms after the offer, %zu frame(s) held since the answer", id_.c_str(),
                  ms_since_start(), held);
        watch_silence();
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
              self->give_up("ice_failed");
              return G_SOURCE_REMOVE;
            },
            this));
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
      give_up("ice_failed");
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
  auto linked = pipeline_.link(branch_.get(), *stream_);
  if (!linked) {
    g_warning("session %s: %s", id_.c_str(), linked.error().c_str());
    give_up("error");
    return false;
  }
  gate_ = *std::move(linked);
  if (audio_stream_) {
    auto audio = pipeline_.link(branch_.get(), *audio_stream_, "audio_sink");
    if (!audio) {
      g_warning("session %s: sound: %s", id_.c_str(), audio.error().c_str());
      give_up("error");
      return false;
    }
    audio_gate_ = *std::move(audio);
  }
  pipeline_.force_keyframe();
  return true;
}

void ViewerSession::give_up(const std::string &reason) {
  if (failed_) return;
  failed_ = true;
  // Deferred: the owner destroys this session from the callback.
  post_to_main([events = events_, id = id_, serial = serial_, reason] {
    if (still(*events, id, serial) && events->failed) events->failed(id, reason);
  });
}

namespace {
// webrtcbin's retransmission sender (one per session: the viewer's m-lines are bundled).
Owned<GstElement> find_rtx_sender(GstElement *webrtc) {
  Owned<GstElement> found;
  GstIterator *it = gst_bin_iterate_recurse(GST_BIN(webrtc));
  GValue item = G_VALUE_INIT;
  while (!found && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto *element = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory *factory = gst_element_get_factory(element);
    if (factory && g_strcmp0(GST_OBJECT_NAME(factory), "rtprtxsend") == 0) found = ref(element);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}
}  // namespace

Result<void> ViewerSession::use_lower(bool lower, int lower_kbps) {
  if (!connected_ || !gate_) return fail("not playing yet");
  if (!switch_) {
    if (!lower) return ok();
    // The pad of the full stream's tee that feeds the branch, behind a ghost on the stream's bin.
    auto sink = adopt(gst_element_get_static_pad(branch_.get(), "sink"));
    auto ghost = sink ? adopt(gst_pad_get_peer(sink.get())) : nullptr;
    auto tee_pad =
        ghost && GST_IS_GHOST_PAD(ghost.get()) ? adopt(gst_ghost_pad_get_target(GST_GHOST_PAD(ghost.get()))) : nullptr;
    guint ssrc = 0;
    gst_structure_get_uint(gst_caps_get_structure(stream_->rtp_caps(), 0), "ssrc", &ssrc);
    if (tee_pad)
      switch_ = EncodingSwitch::install(tee_pad.get(), ssrc,
                                        [events = events_, id = id_, serial = serial_](EncodingSwitch::Encoding now) {
                                          ViewerSession *live = still(*events, id, serial);
                                          if (!live) return;
                                          g_message("session %s: now on the camera's %s encoding", id.c_str(),
                                                    now == EncodingSwitch::Lower ? "lower" : "full");
                                          if (now == EncodingSwitch::Full)
                                            live->switch_->to_full();  // lets go of the lower stream
                                          if (events->encoding) events->encoding(id);
                                        });
    if (!switch_) return fail("the viewer's branch is not linked");
    switch_->guard_retransmissions(find_rtx_sender(webrtc_.get()).get());
  }
  if (lower) {
    auto stream = pipeline_.lower_rtp_stream(format_, lower_kbps);
    if (!stream) return fail(stream.error());
    auto ask_keyframe = pipeline_.lower_keyframe_request();
    switch_->to_lower(*std::move(stream), ask_keyframe);
    ask_keyframe();
  } else {
    switch_->to_full();
    pipeline_.force_keyframe();
  }
  return ok();
}

std::set<std::string> ViewerSession::local_addresses() const {
  std::set<std::string> out;
  for (const auto &[mline, candidate] : local_candidates_)
    if (auto address = candidate_local_address(candidate); !address.empty()) out.insert(address);
  return out;
}

ViewerSession::~ViewerSession() {
  switch_.reset();  // off the pads before the branch goes
  link_.reset();    // its probe off the pad first
  silence_timer_.reset();
  disconnect_timer_.reset();
  connect_timer_.reset();
  for (gulong h : handlers_) g_signal_handler_disconnect(webrtc_.get(), h);
  for (gulong h : rtpbin_handlers_) g_signal_handler_disconnect(rtpbin_.get(), h);
  if (branch_) pipeline_.detach(branch_.get());
  stream_.reset();  // after the branch: the last viewer of a stream takes it out
  audio_stream_.reset();
}

}  // namespace sl::agent
