// A stand-in IP camera for the tests: gst-rtsp-server serving a moving test
// pattern as H.264 (constrained baseline, or with B-frames: a Main/High stream) or H.265,
// each frame stamped with LTS1 (agent/capture/stamp.hpp) before it is encoded,
// so a page that reads the stamp proves the picture came live from here. Only
// on 127.0.0.1, only for the user:password in the credentials file. With
// --audio it also sends sound, as IP cameras do: a 440 Hz tone at half scale
// (loud enough for a page to measure) as G.711 (pcma, pcmu), AAC or Opus.
//
//   rtsp-test-camera --port N --credentials-file FILE [--path /cam]
//                    [--codec h264|h264-bframes|h265] [--width W] [--height H] [--fps F]
//                    [--audio none|pcma|pcmu|aac|opus]
//
// Prints "ready rtsp://127.0.0.1:N/cam" once it listens, and "setup URL" for
// each stream a client sets up (stream=0 the video, stream=1 the sound), so a
// test sees which streams were asked for; stops on SIGTERM.
#include "capture/stamp.hpp"
#include "gobj.hpp"
#include "gst_owned.hpp"
#include "rtsp_url.hpp"

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <gst/video/video.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

struct Options {
  int port = 0;
  std::string credentials_file;
  std::string path = "/cam";
  std::string codec = "h264";
  std::string pattern = "smpte";
  std::string audio = "none";
  int width = 640, height = 360, fps = 30;
};

struct Stamper {
  GstVideoInfo info;
  uint32_t seq = 0;
};

GstPadProbeReturn stamp_frame(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *stamper = static_cast<Stamper *>(data);
  GstBuffer *buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &stamper->info, buf, GST_MAP_WRITE)) return GST_PAD_PROBE_OK;
  auto plane = [&](int i) { return static_cast<uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, i)); };
  auto stride = [&](int i) { return GST_VIDEO_FRAME_PLANE_STRIDE(&frame, i); };
  const uint32_t t = uint32_t(uint64_t(g_get_real_time() / 1000) & 0xffffffffu);
  sl::agent::write_stamp(plane(0), stride(0), plane(1), stride(1), plane(2), stride(2), t,
                         uint8_t(stamper->seq++ & 0x3f));
  gst_video_frame_unmap(&frame);
  return GST_PAD_PROBE_OK;
}

// Each client's pipeline gets its own stamper, freed with the probe.
void on_media_configure(GstRTSPMediaFactory *, GstRTSPMedia *media, gpointer data) {
  const auto *o = static_cast<const Options *>(data);
  auto element = sl::adopt(gst_rtsp_media_get_element(media));
  auto identity = sl::adopt(gst_bin_get_by_name(GST_BIN(element.get()), "stamp"));
  auto pad = sl::adopt(gst_element_get_static_pad(identity.get(), "src"));
  auto *stamper = new Stamper();
  gst_video_info_set_format(&stamper->info, GST_VIDEO_FORMAT_I420, guint(o->width), guint(o->height));
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, stamp_frame, stamper,
                    [](gpointer p) { delete static_cast<Stamper *>(p); });
}

// The camera's sound as its second stream (pay1), "" for none.
std::string audio_part(const std::string &audio) {
  const std::string tone = " audiotestsrc is-live=true wave=sine freq=440 volume=0.5 ! audioconvert ! audioresample";
  if (audio == "pcma") return tone + " ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1 pt=8";
  if (audio == "pcmu") return tone + " ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1 pt=0";
  if (audio == "aac") return tone + " ! audio/x-raw,rate=48000,channels=2 ! avenc_aac ! rtpmp4gpay name=pay1 pt=97";
  if (audio == "opus") return tone + " ! audio/x-raw,rate=48000,channels=2 ! opusenc ! rtpopuspay name=pay1 pt=97";
  return "";
}

std::string launch_line(const Options &o) {
  const std::string raw = "videotestsrc is-live=true horizontal-speed=2 pattern=" + o.pattern +
                          " ! video/x-raw,format=I420,width=" + std::to_string(o.width) +
                          ",height=" + std::to_string(o.height) + ",framerate=" + std::to_string(o.fps) +
                          "/1 ! identity name=stamp";
  const std::string gop = " key-int-max=" + std::to_string(o.fps);
  const std::string end = audio_part(o.audio) + " )";
  if (o.codec == "h265")
    return "( " + raw + " ! x265enc tune=zerolatency speed-preset=ultrafast" + gop +
           " ! rtph265pay name=pay0 pt=96 config-interval=-1" + end;
  if (o.codec == "h264-bframes")
    return "( " + raw + " ! x264enc speed-preset=ultrafast bframes=2 b-adapt=false" + gop +
           " ! video/x-h264,profile=main ! rtph264pay name=pay0 pt=96 config-interval=-1" + end;
  return "( " + raw + " ! x264enc tune=zerolatency speed-preset=ultrafast bframes=0" + gop +
         " ! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=-1" + end;
}

void on_setup(GstRTSPClient *, GstRTSPContext *context, gpointer) {
  if (!context->uri) return;
  gchar *uri = gst_rtsp_url_get_request_uri(context->uri);
  std::printf("setup %s\n", uri);
  std::fflush(stdout);
  g_free(uri);
}

void on_client(GstRTSPServer *, GstRTSPClient *client, gpointer) {
  g_signal_connect(client, "setup-request", G_CALLBACK(on_setup), nullptr);
}

bool parse(int argc, char **argv, Options &o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--port")
      o.port = std::atoi(value.c_str());
    else if (key == "--credentials-file")
      o.credentials_file = value;
    else if (key == "--path")
      o.path = value;
    else if (key == "--codec")
      o.codec = value;
    else if (key == "--audio")
      o.audio = value;
    else if (key == "--pattern")
      o.pattern = value;
    else if (key == "--width")
      o.width = std::atoi(value.c_str());
    else if (key == "--height")
      o.height = std::atoi(value.c_str());
    else if (key == "--fps")
      o.fps = std::atoi(value.c_str());
    else
      return false;
  }
  return o.port > 0 && !o.credentials_file.empty() && o.width > 0 && o.height > 0 && o.fps > 0 &&
         (o.codec == "h264" || o.codec == "h264-bframes" || o.codec == "h265") &&
         (o.audio == "none" || !audio_part(o.audio).empty());
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  Options o;
  if ((argc - 1) % 2 || !parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: rtsp-test-camera --port N --credentials-file FILE [--path /cam] "
                 "[--codec h264|h264-bframes|h265] [--pattern P] [--width W] [--height H] [--fps F] "
                 "[--audio none|pcma|pcmu|aac|opus]\n");
    return 2;
  }
  auto credentials = sl::agent::read_rtsp_credentials(o.credentials_file);
  if (!credentials) {
    std::fprintf(stderr, "rtsp-test-camera: %s\n", credentials.error().c_str());
    return 2;
  }

  auto server = sl::adopt(gst_rtsp_server_new());
  gst_rtsp_server_set_address(server.get(), "127.0.0.1");
  gst_rtsp_server_set_service(server.get(), std::to_string(o.port).c_str());

  g_signal_connect(server.get(), "client-connected", G_CALLBACK(on_client), nullptr);
  auto factory = sl::adopt(gst_rtsp_media_factory_new());
  gst_rtsp_media_factory_set_launch(factory.get(), launch_line(o).c_str());
  // UDP transport: the server's RTP ports on loopback too (the network rule).
  auto pool = sl::adopt(gst_rtsp_address_pool_new());
  gst_rtsp_address_pool_add_range(pool.get(), "127.0.0.1", "127.0.0.1", 40000, 49999, 0);
  gst_rtsp_media_factory_set_address_pool(factory.get(), pool.get());
  g_signal_connect(factory.get(), "media-configure", G_CALLBACK(on_media_configure), &o);

  // Basic auth: only this user may see or start the stream.
  auto auth = sl::adopt(gst_rtsp_auth_new());
  GstRTSPToken *token = gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "camera-user", nullptr);
  gchar *basic = gst_rtsp_auth_make_basic(credentials->user.c_str(), credentials->password.c_str());
  gst_rtsp_auth_add_basic(auth.get(), basic, token);
  g_free(basic);
  gst_rtsp_token_unref(token);
  gst_rtsp_server_set_auth(server.get(), auth.get());
  gst_rtsp_media_factory_add_role(factory.get(), "camera-user", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN,
                                  TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, nullptr);

  auto mounts = sl::adopt(gst_rtsp_server_get_mount_points(server.get()));
  gst_rtsp_mount_points_add_factory(mounts.get(), o.path.c_str(), GST_RTSP_MEDIA_FACTORY(g_object_ref(factory.get())));

  if (gst_rtsp_server_attach(server.get(), nullptr) == 0) {
    std::fprintf(stderr, "rtsp-test-camera: cannot listen on 127.0.0.1:%d\n", o.port);
    return 1;
  }
  GMainLoop *loop = g_main_loop_new(nullptr, FALSE);
  auto quit = +[](gpointer l) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop *>(l));
    return G_SOURCE_REMOVE;
  };
  g_unix_signal_add(SIGTERM, quit, loop);
  g_unix_signal_add(SIGINT, quit, loop);
  std::printf("ready rtsp://127.0.0.1:%d%s (%s, %dx%d@%d, audio %s)\n", o.port, o.path.c_str(), o.codec.c_str(),
              o.width, o.height, o.fps, o.audio.c_str());
  std::fflush(stdout);
  g_main_loop_run(loop);
  g_main_loop_unref(loop);
  return 0;
}
