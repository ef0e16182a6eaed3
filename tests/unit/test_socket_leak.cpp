// libsoup 3.2's accepted sockets: with the relay's mend, a connection's GSocket is
// freed once the connection closes (without it, on libsoup < 3.4, it never is).
#include "http/socket_leak.hpp"

#include <doctest/doctest.h>

#include <gio/gio.h>

#include <initializer_list>

namespace {

struct Watch {
  int started = 0;
  int freed = 0;
  bool mend = true;
};

// One plain HTTP request on its own connection, answered by `server` on `port`.
void one_request(guint16 port, Watch &watch) {
  GSocketClient *client = g_socket_client_new();
  GSocketConnection *conn = g_socket_client_connect_to_host(client, "127.0.0.1", port, nullptr, nullptr);
  REQUIRE(conn);
  const char request[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
  REQUIRE(g_output_stream_write_all(out, request, sizeof request - 1, nullptr, nullptr, nullptr));
  const int before = watch.started;
  const gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
  while (watch.started == before && g_get_monotonic_time() < end) g_main_context_iteration(nullptr, FALSE);
  g_io_stream_close(G_IO_STREAM(conn), nullptr, nullptr);
  g_object_unref(conn);
  g_object_unref(client);
}

}  // namespace

TEST_CASE("an accepted socket is freed when its connection ends") {
  for (const bool mend : {true, false}) {
    CAPTURE(mend);
    Watch watch;
    watch.mend = mend;
    SoupServer *server = soup_server_new(nullptr, nullptr);
    soup_server_add_handler(
        server, nullptr,
        [](SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer) {
          soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
        },
        nullptr, nullptr);
    g_signal_connect(server, "request-started", G_CALLBACK(+[](SoupServer *, SoupServerMessage *msg, gpointer data) {
                       auto *w = static_cast<Watch *>(data);
                       GSocket *socket = soup_server_message_get_socket(msg);
                       ++w->started;
                       g_object_weak_ref(
                           G_OBJECT(socket), [](gpointer d, GObject *) { ++static_cast<Watch *>(d)->freed; }, w);
                       if (w->mend) sl::relay::mend_socket_leak(socket);
                     }),
                     &watch);
    REQUIRE(soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, nullptr));
    GSList *uris = soup_server_get_uris(server);
    const guint16 port = guint16(g_uri_get_port(static_cast<GUri *>(uris->data)));
    g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
    for (int i = 0; i < 5; ++i) one_request(port, watch);
    const gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    while (watch.freed < 5 && g_get_monotonic_time() < end) g_main_context_iteration(nullptr, FALSE);
    CHECK(watch.started == 5);
    if (mend || !sl::relay::libsoup_leaks_accepted_sockets())
      CHECK(watch.freed == 5);
    else
      CHECK(watch.freed == 0);  // libsoup's own leak, which the mend is for
    soup_server_disconnect(server);
    g_object_unref(server);
  }
}
