#include "whep_source.hpp"

#include "gst_webrtc_owned.hpp"
#include "main_context.hpp"
#include "rtsp_audio.hpp"
#include "webrtcbin_ice.hpp"
#include "whep_url.hpp"

#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>
#include <libsoup/soup.h>

#include <cstring>
#include <memory>

namespace sl::agent {

namespace {

// An upstream camera that stops sending (its agent killed, the server's
// session ended without a word) is caught here: no frame for this long.
constexpr unsigned kStallMs = 5000;
// Requests to the server: the POST waits for the server's whole answer (the
// relay's agent gathers its candidates first), the DELETE is best effort.
constexpr guint kHttpTimeoutS = 10;
constexpr guint kDeleteTimeoutMs = 2000;
constexpr guint kProbeTimeoutS = 3;
// Gathering on the allowed addresses takes a few ms; a STUN server that does
// not answer must not hold the offer back for long.
constexpr guint kGatherBoundMs = 3000;

// What the agents send (constrained baseline, baseline) and what browsers
// decode; keyframe requests (nack pli, ccm fir) go back upstream.
constexpr const char *kOfferedCaps =
    "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96,packetization-mode=(string)1,"
    "profile-level-id=(string)42e01f,level-asymmetry-allowed=(string)1,rtcp-fb-nack=(boolean)true,"
    "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true;"
    "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=97,packetization-mode=(string)1,"
    "profile-level-id=(string)42001f,level-asymmetry-allowed=(string)1,rtcp-fb-nack=(boolean)true,"
    "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true";
// The server's sound, when asked for (audio = camera): Opus, as agents and browsers send it.
constexpr const char *kOfferedAudioCaps =
    "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111,encoding-params=(string)2";

// Whether an answer can play here: SDP, a video m-line, H.264 in it.
Result<Owned<GstSDPMessage>> check_answer(const std::string &text) {
  GstSDPMessage *raw = nullptr;
  const GstSDPResult parsed = gst_sdp_message_new_from_text(text.c_str(), &raw);
  Owned<GstSDPMessage> sdp(raw);
  if (parsed != GST_SDP_OK || text.rfind("v=0", 0) != 0) return fail("its answer is not SDP");
  const GstSDPMedia *video = nullptr;
  for (guint i = 0; i < gst_sdp_message_medias_len(sdp.get()); ++i) {
    const GstSDPMedia *m = gst_sdp_message_get_media(sdp.get(), i);
    if (g_strcmp0(gst_sdp_media_get_media(m), "video") == 0 && gst_sdp_media_get_port(m) != 0) video = m;
  }
  if (!video) return fail("its answer has no video");
  for (guint i = 0; i < gst_sdp_media_attributes_len(video); ++i) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(video, i);
    if (g_strcmp0(a->key, "rtpmap") == 0 && a->value && g_strrstr(a->value, "H264/90000")) return sdp;
  }
  return fail("its answer's video is not H.264");
}

}  // namespace

// One WHEP player session at a time, all on the main loop. webrtcbin's signals
// and promises post to it with a weak reference and the session's generation:
// anything from a session already stopped is dropped.
class WhepClient : public std::enable_shared_from_this<WhepClient> {
 public:
  WhepClient(const CameraSettings &s, std::string endpoint, bool audio)
      : audio_(audio),
        endpoint_(std::move(endpoint)),
        token_(s.whep_token),
        id_(s.id),
        ice_addresses_(s.ice_addresses),
        stun_(s.stun),
        http_(
            adopt(soup_session_new_with_options("timeout", kHttpTimeoutS, "user-agent", "sightline-agent", nullptr))) {}

  void start(GstElement *pipeline);
  void stop(GstElement *pipeline);

 private:
  struct Handle {
    std::weak_ptr<WhepClient> client;
    uint64_t generation;
  };
  // Runs `work` on the main loop if this session is still the current one.
  static void later(const Handle &h, std::function<void(WhepClient &)> work) {
    post_to_main([client = h.client, generation = h.generation, work = std::move(work)] {
      auto live = client.lock();
      if (live && live->webrtc_ && live->generation_ == generation) work(*live);
    });
  }
  Handle handle() { return Handle{weak_from_this(), generation_}; }
  gpointer new_handle() { return new Handle{handle()}; }
  static void drop_handle(gpointer data, GClosure *) { delete static_cast<Handle *>(data); }

  void configure_ice();
  void offer_created(Owned<GstWebRTCSessionDescription> offer);
  void post_offer();
  void answered(SoupMessage *msg, GBytes *body, const GError *error);
  void fail_with(GstResourceError code, const std::string &sentence);

  const bool audio_;  // the server's sound is asked for too (audio = camera)
  const std::string endpoint_, token_, id_;
  const std::vector<std::string> ice_addresses_, stun_;
  Owned<SoupSession> http_;
  Owned<GstElement> webrtc_;
  Owned<GstElement> src_;  // where the received RTP goes, and whose errors the camera keeper reads
  Owned<GCancellable> cancel_;
  uint64_t generation_ = 0;
  bool offered_ = false;
  std::string resource_;                        // the session's URL (Location), to DELETE
  std::vector<proto::IceServer> link_servers_;  // from the last answer's Link headers: used from the next session
  SourceId gather_bound_;
};

void WhepClient::configure_ice() {
  std::vector<proto::IceServer> servers = link_servers_;
  for (const auto &url : stun_) servers.push_back(proto::IceServer{{url}, "", ""});
  configure_webrtcbin_ice(webrtc_.get(), servers, ice_addresses_, "camera " + id_ + "'s WHEP session");
}

void WhepClient::start(GstElement *pipeline) {
  stop(pipeline);
  ++generation_;
  offered_ = false;
  src_ = adopt(gst_bin_get_by_name(GST_BIN(pipeline), "src"));
  webrtc_ = sink(gst_element_factory_make("webrtcbin", nullptr));
  if (!webrtc_ || !src_) {
    webrtc_.reset();
    if (src_)
      fail_with(GST_RESOURCE_ERROR_FAILED,
                "GStreamer's webrtcbin is missing: install gstreamer1.0-plugins-bad and "
                "gstreamer1.0-nice.");
    return;
  }
  g_object_set(webrtc_.get(), "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency", kWhepLatencyMs, nullptr);
  configure_ice();
  auto caps = adopt(gst_caps_from_string(kOfferedCaps));
  GstWebRTCRTPTransceiver *raw_trans = nullptr;
  g_signal_emit_by_name(webrtc_.get(), "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps.get(),
                        &raw_trans);
  if (auto trans = adopt(raw_trans)) g_object_set(trans.get(), "do-nack", TRUE, nullptr);
  // The server's sound (audio = camera), into the chain that decodes it (plan.audio).
  auto audio_in = audio_ ? adopt(gst_bin_get_by_name(GST_BIN(pipeline), kRtpAudioFilter)) : Owned<GstElement>();
  if (audio_in) {
    auto audio_caps = adopt(gst_caps_from_string(kOfferedAudioCaps));
    GstWebRTCRTPTransceiver *raw_audio = nullptr;
    g_signal_emit_by_name(webrtc_.get(), "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                          audio_caps.get(), &raw_audio);
    adopt(raw_audio);
  }

  // Keyframe requests on their way up into webrtcbin's receiving RTP session,
  // which turns one into a PLI (or FIR) for the sender only when the request
  // names the received stream's SSRC and payload type. Its own demuxers add
  // them, but only where the request has none: a viewer's request arrives
  // naming the SSRC and payload type of that viewer's stream (its sending RTP
  // session wrote them), which the receiving session does not know, and it was
  // dropped there. So the request goes up anonymous.
  auto src_sink = adopt(gst_element_get_static_pad(src_.get(), "sink"));
  gst_pad_add_probe(
      src_sink.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      +[](GstPad *, GstPadProbeInfo *info, gpointer) -> GstPadProbeReturn {
        GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
        if (!gst_video_event_is_force_key_unit(event)) return GST_PAD_PROBE_OK;
        GstClockTime running_time = GST_CLOCK_TIME_NONE;
        gboolean all_headers = TRUE;
        guint count = 0;
        gst_video_event_parse_upstream_force_key_unit(event, &running_time, &all_headers, &count);
        GST_PAD_PROBE_INFO_DATA(info) = gst_video_event_new_upstream_force_key_unit(running_time, all_headers, count);
        gst_event_unref(event);
        return GST_PAD_PROBE_OK;
      },
      nullptr, nullptr);

  // The received RTP into "src", the sound into its chain (webrtcbin adds its
  // pads on a streaming thread, with the stream's caps).
  struct Inputs {
    Owned<GstElement> video, audio;
  };
  g_signal_connect_data(
      webrtc_.get(), "pad-added", G_CALLBACK(+[](GstElement *, GstPad *pad, gpointer data) {
        if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
        const auto *inputs = static_cast<Inputs *>(data);
        // Which transceiver it comes from (its caps may not be set yet).
        GstWebRTCRTPTransceiver *pad_trans = nullptr;
        g_object_get(pad, "transceiver", &pad_trans, nullptr);
        auto trans = adopt(pad_trans);
        GstWebRTCKind kind = GST_WEBRTC_KIND_UNKNOWN;
        if (trans) g_object_get(trans.get(), "kind", &kind, nullptr);
        const bool audio = kind == GST_WEBRTC_KIND_AUDIO;
        GstElement *into = audio ? inputs->audio.get() : inputs->video.get();
        auto sink = into ? adopt(gst_element_get_static_pad(into, "sink")) : Owned<GstPad>();
        if (sink && !gst_pad_is_linked(sink.get())) gst_pad_link(pad, sink.get());
      }),
      new Inputs{ref(src_.get()), std::move(audio_in)}, [](gpointer d, GClosure *) { delete static_cast<Inputs *>(d); },
      GConnectFlags(0));
  g_signal_connect_data(webrtc_.get(), "notify::ice-gathering-state",
                        G_CALLBACK(+[](GstElement *webrtc, GParamSpec *, gpointer data) {
                          GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
                          g_object_get(webrtc, "ice-gathering-state", &state, nullptr);
                          if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
                            later(*static_cast<Handle *>(data), [](WhepClient &c) { c.post_offer(); });
                        }),
                        new_handle(), &WhepClient::drop_handle, GConnectFlags(0));
  g_signal_connect_data(
      webrtc_.get(), "notify::connection-state", G_CALLBACK(+[](GstElement *webrtc, GParamSpec *, gpointer data) {
        GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
        g_object_get(webrtc, "connection-state", &state, nullptr);
        if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
          later(*static_cast<Handle *>(data), [](WhepClient &c) {
            c.fail_with(GST_RESOURCE_ERROR_READ, "The WHEP session with " + c.endpoint_ +
                                                     " failed to connect (ICE or DTLS): check that its candidates are "
                                                     "reachable from here (ice-address, stun).");
          });
      }),
      new_handle(), &WhepClient::drop_handle, GConnectFlags(0));

  gst_bin_add(GST_BIN(pipeline), GST_ELEMENT(gst_object_ref(webrtc_.get())));
  gst_element_sync_state_with_parent(webrtc_.get());

  auto promise = adopt(gst_promise_new_with_change_func(
      [](GstPromise *p, gpointer data) {
        const bool replied = gst_promise_wait(p) == GST_PROMISE_RESULT_REPLIED;
        const GstStructure *reply = replied ? gst_promise_get_reply(p) : nullptr;
        GstWebRTCSessionDescription *raw = nullptr;
        if (reply) gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &raw, nullptr);
        std::shared_ptr<GstWebRTCSessionDescription> offer(raw, Unref<GstWebRTCSessionDescription>());
        later(*static_cast<Handle *>(data), [offer](WhepClient &c) {
          c.offer_created(
              Owned<GstWebRTCSessionDescription>(offer ? gst_webrtc_session_description_copy(offer.get()) : nullptr));
        });
      },
      new_handle(), [](gpointer d) { delete static_cast<Handle *>(d); }));
  g_signal_emit_by_name(webrtc_.get(), "create-offer", nullptr, promise.get());
  g_message("camera %s: asking the WHEP server at %s for its stream", id_.c_str(), endpoint_.c_str());
}

void WhepClient::offer_created(Owned<GstWebRTCSessionDescription> offer) {
  if (!offer) {
    fail_with(GST_RESOURCE_ERROR_FAILED, "webrtcbin could not make an offer for the WHEP server at " + endpoint_ + ".");
    return;
  }
  g_signal_emit_by_name(webrtc_.get(), "set-local-description", offer.get(), nullptr);
  // Every candidate goes in the offer (no trickle): the POST waits for
  // gathering, within a bound.
  gather_bound_.reset(after_ms(kGatherBoundMs, [this] {
    gather_bound_.release();
    post_offer();
  }));
  GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
  g_object_get(webrtc_.get(), "ice-gathering-state", &state, nullptr);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) post_offer();
}

void WhepClient::post_offer() {
  if (offered_) return;
  GstWebRTCSessionDescription *raw = nullptr;
  g_object_get(webrtc_.get(), "local-description", &raw, nullptr);
  auto local = adopt(raw);
  if (!local) return;  // not set yet: gathering finished first, offer_created posts
  offered_ = true;
  gather_bound_.reset();
  OwnedStr text(gst_sdp_message_as_text(local->sdp));
  GST_LOG("WHEP offer:\n%s", text.get());
  auto msg = adopt(soup_message_new("POST", endpoint_.c_str()));
  if (!msg) {
    fail_with(GST_RESOURCE_ERROR_SETTINGS, "The WHEP endpoint " + endpoint_ + " is not a URL libsoup takes.");
    return;
  }
  auto body = adopt(g_bytes_new(text.get(), strlen(text.get())));
  soup_message_set_request_body_from_bytes(msg.get(), "application/sdp", body.get());
  if (!token_.empty())
    soup_message_headers_replace(soup_message_get_request_headers(msg.get()), "Authorization",
                                 ("Bearer " + token_).c_str());
  cancel_ = adopt(g_cancellable_new());
  struct Post {
    Handle handle;
    Owned<SoupMessage> msg;
  };
  SoupMessage *m = msg.get();
  soup_session_send_and_read_async(
      http_.get(), m, G_PRIORITY_DEFAULT, cancel_.get(),
      [](GObject *session, GAsyncResult *result, gpointer data) {
        std::unique_ptr<Post> post(static_cast<Post *>(data));
        GError *raw_error = nullptr;
        auto bytes = adopt(soup_session_send_and_read_finish(SOUP_SESSION(session), result, &raw_error));
        Owned<GError> error(raw_error);
        if (error && g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) return;  // stopped meanwhile
        auto live = post->handle.client.lock();
        if (live && live->webrtc_ && live->generation_ == post->handle.generation)
          live->answered(post->msg.get(), bytes.get(), error.get());
      },
      new Post{handle(), std::move(msg)});
}

void WhepClient::answered(SoupMessage *msg, GBytes *body, const GError *error) {
  if (error) {
    fail_with(GST_RESOURCE_ERROR_OPEN_READ, "Cannot reach the WHEP server at " + endpoint_ + " (" + error->message +
                                                "): is it running, and are the address and port right?");
    return;
  }
  gsize size = 0;
  const char *data = body ? static_cast<const char *>(g_bytes_get_data(body, &size)) : nullptr;
  const std::string text = data ? std::string(data, size) : std::string();
  const guint status = soup_message_get_status(msg);
  if (status != SOUP_STATUS_CREATED && status != SOUP_STATUS_OK) {
    const GstResourceError code = status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN
                                      ? GST_RESOURCE_ERROR_NOT_AUTHORIZED
                                  : status == SOUP_STATUS_NOT_FOUND ? GST_RESOURCE_ERROR_NOT_FOUND
                                                                    : GST_RESOURCE_ERROR_OPEN_READ;
    fail_with(code, describe_whep_refusal(status, text, endpoint_, !token_.empty()));
    return;
  }
  SoupMessageHeaders *headers = soup_message_get_response_headers(msg);
  if (const char *location = soup_message_headers_get_one(headers, "Location"))
    resource_ = resolve_location(endpoint_, location);
  if (const char *links = soup_message_headers_get_list(headers, "Link")) {
    auto servers = ice_servers_from_links({links});
    if (servers != link_servers_)
      g_message("camera %s: the WHEP server names %zu ICE server(s), used from its next session", id_.c_str(),
                servers.size());
    link_servers_ = std::move(servers);
  }
  auto sdp = check_answer(text);
  if (!sdp) {
    fail_with(GST_RESOURCE_ERROR_FAILED,
              "The WHEP server at " + endpoint_ + " gave an answer this agent cannot play: " + sdp.error() + ".");
    return;
  }
  GST_LOG("WHEP answer:\n%s", text.c_str());
  auto answer = adopt(gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp->release()));
  auto promise = adopt(gst_promise_new_with_change_func(
      [](GstPromise *p, gpointer handle) {
        const bool replied = gst_promise_wait(p) == GST_PROMISE_RESULT_REPLIED;
        const GstStructure *reply = replied ? gst_promise_get_reply(p) : nullptr;
        if (replied && !(reply && gst_structure_has_field(reply, "error"))) return;
        later(*static_cast<Handle *>(handle), [](WhepClient &c) {
          c.fail_with(GST_RESOURCE_ERROR_FAILED, "The WHEP server at " + c.endpoint_ +
                                                     " gave an answer webrtcbin refused (not a fit for the offer).");
        });
      },
      new_handle(), [](gpointer d) { delete static_cast<Handle *>(d); }));
  g_signal_emit_by_name(webrtc_.get(), "set-remote-description", answer.get(), promise.get());
  g_message("camera %s: the WHEP server answered (session %s)", id_.c_str(),
            resource_.empty() ? "without a Location" : resource_.c_str());
}

void WhepClient::fail_with(GstResourceError code, const std::string &sentence) {
  if (!src_) return;
  // An error of "src": the camera keeper stops the pipeline (stop() below) and retries.
  GError *error = g_error_new_literal(GST_RESOURCE_ERROR, code, sentence.c_str());
  gst_element_post_message(src_.get(), gst_message_new_error(GST_OBJECT(src_.get()), error, nullptr));
  g_error_free(error);
}

void WhepClient::stop(GstElement *pipeline) {
  ++generation_;  // whatever the old session still posts is dropped
  gather_bound_.reset();
  if (cancel_) g_cancellable_cancel(cancel_.get());
  cancel_.reset();
  if (webrtc_) {
    gst_element_set_state(webrtc_.get(), GST_STATE_NULL);
    gst_bin_remove(GST_BIN(pipeline), webrtc_.get());
    webrtc_.reset();
  }
  if (resource_.empty()) return;
  // Best effort, bounded: the server frees the session now rather than when
  // its ICE consent runs out.
  auto msg = adopt(soup_message_new("DELETE", resource_.c_str()));
  resource_.clear();
  if (!msg) return;
  if (!token_.empty())
    soup_message_headers_replace(soup_message_get_request_headers(msg.get()), "Authorization",
                                 ("Bearer " + token_).c_str());
  struct Delete {
    Owned<SoupSession> http;  // outlives this client if need be
    Owned<SoupMessage> msg;
    Owned<GCancellable> cancel;
    SourceId bound;
  };
  auto *d = new Delete{ref(http_.get()), std::move(msg), adopt(g_cancellable_new()), {}};
  d->bound.reset(after_ms(kDeleteTimeoutMs, [cancel = d->cancel.get()] { g_cancellable_cancel(cancel); }));
  soup_session_send_and_read_async(
      d->http.get(), d->msg.get(), G_PRIORITY_DEFAULT, d->cancel.get(),
      [](GObject *session, GAsyncResult *result, gpointer data) {
        std::unique_ptr<Delete> done(static_cast<Delete *>(data));
        GError *raw = nullptr;
        auto bytes = adopt(soup_session_send_and_read_finish(SOUP_SESSION(session), result, &raw));
        Owned<GError> error(raw);
        if (error)
          g_debug("WHEP session not deleted: %s", error->message);
        else
          g_debug("WHEP session deleted (%u)", soup_message_get_status(done->msg.get()));
      },
      d);
}

namespace {

// Whether the server answers HTTP at all (an OPTIONS, as WHEP players may send).
std::string unreachable_reason(const std::string &endpoint) {
  auto http = adopt(soup_session_new_with_options("timeout", kProbeTimeoutS, nullptr));
  auto msg = adopt(soup_message_new("OPTIONS", endpoint.c_str()));
  if (!msg) return "The WHEP endpoint " + endpoint + " is not a URL libsoup takes.";
  GError *raw = nullptr;
  auto bytes = adopt(soup_session_send_and_read(http.get(), msg.get(), nullptr, &raw));
  Owned<GError> error(raw);
  if (error)
    return "Cannot reach the WHEP server at " + endpoint + " (" + error->message +
           "): is it running, and are the address and port right?";
  return "";
}

}  // namespace

Result<SourcePlan> plan_whep_source(const CameraSettings &s) {
  auto endpoint = whep_endpoint(s.source);
  if (!endpoint) return fail("Setting 'source': " + endpoint.error() + ".");
  if (!element_available("webrtcbin") || !element_available("rtph264depay") || !element_available("h264parse"))
    return fail(
        "A WHEP source needs webrtcbin, rtph264depay and h264parse: install gstreamer1.0-plugins-bad, "
        "gstreamer1.0-plugins-good and gstreamer1.0-nice.");
  SourcePlan plan;
  plan.width = s.width;  // until the stream says (its caps reach the tee)
  plan.height = s.height;
  plan.fps = s.fps;
  plan.h264_passthrough = true;
  plan.stall_timeout_ms = kStallMs;
  plan.explain_error = [](const GError *error) {
    return std::string(error && error->message ? error->message : "The WHEP source failed.");
  };
  // The depayloader asks for a keyframe itself when packets are lost for
  // good. Whole access units in avc form into the parser, which writes SPS/PPS
  // before every keyframe (as for an IP camera's H.264: rtsp_source.cpp).
  plan.description =
      "capsfilter name=src caps=application/x-rtp,media=video,encoding-name=H264"
      " ! rtph264depay request-keyframe=true ! video/x-h264,stream-format=avc,alignment=au"
      " ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au";
  // The server's sound (audio = camera): decoded, and sent as the agent's own (describe_audio).
  bool audio = false;
  std::string sound = "its sound is not taken (video only; audio = camera takes it).";
  if (s.audio == "camera") {
    auto chain = camera_audio_chain("OPUS", element_available);
    audio = bool(chain);
    if (chain) {
      plan.audio = *chain;
      plan.audio_note = "the WHEP server's sound (Opus) is asked for, decoded and sent with the picture.";
      sound = "its sound (Opus) is asked for too.";
    } else {
      plan.audio_note = chain.error();
      sound = chain.error();
    }
  }
  auto client = std::make_shared<WhepClient>(s, *endpoint, audio);
  plan.start = [client](GstElement *pipeline) { client->start(pipeline); };
  plan.stop = [client](GstElement *pipeline) { client->stop(pipeline); };
  plan.unreachable = unreachable_reason(*endpoint);
  const std::string what = "WHEP " + *endpoint + (s.whep_token.empty() ? "" : " (with a token)");
  plan.summary = what + ": " +
                 (plan.unreachable.empty() ? std::string("the server answers. ") : plan.unreachable + " ") +
                 "H.264 (constrained baseline or baseline, packetization-mode 1) is asked for and passed through "
                 "as the server sends it; " +
                 sound;
  return plan;
}

}  // namespace sl::agent
