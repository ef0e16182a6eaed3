#include "ws_connections.hpp"

#include <glib-unix.h>

#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace sl::relay {

namespace {
// What one pass reads from one connection before it serves the others (the rest on the next pass).
constexpr size_t kReadPerPass = 256 * 1024;
constexpr gint64 kClosingWait_us = 2 * G_USEC_PER_SEC;
}  // namespace

WsConnection::WsConnection(WsConnections &owner, GIOStream *stream, int fd, size_t max_message, Handlers handlers)
    : owner_(owner),
      stream_(adopt(stream)),
      in_(G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(stream))),
      out_(G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(stream))),
      fd_(fd),
      decoder_(max_message),
      handlers_(std::move(handlers)) {}

size_t WsConnection::queued() const {
  int bytes = 0;
  if (state_ == State::Closed || ioctl(fd_, SIOCOUTQ, &bytes) != 0) bytes = 0;
  return size_t(std::max(bytes, 0)) + pending_.size();
}

void WsConnection::send_text(std::string_view text) {
  if (state_ != State::Open) return;
  queue(ws::encode(ws::Opcode::Text, text));
}

void WsConnection::close(uint16_t code, std::string_view reason) {
  if (state_ != State::Open) return;
  begin_closing(code, ws::close_payload(code, reason));
}

// Our close frame out (or queued), then the peer's answer or the deadline.
void WsConnection::begin_closing(uint16_t code, std::string_view payload) {
  close_code_ = code;
  queue(ws::encode(ws::Opcode::Close, payload));
  if (state_ != State::Open) return;  // the write failed
  state_ = State::Closing;
  closing_deadline_us_ = g_get_monotonic_time() + kClosingWait_us;
  owner_.closing_.push_back(fd_);
}

void WsConnection::fail() {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  owner_.done_.push_back(fd_);
  owner_.soon();
}

void WsConnection::queue(std::string frame) {
  if (pending_.empty()) {
    GError *error = nullptr;
    const gssize n = g_pollable_output_stream_write_nonblocking(out_, frame.data(), frame.size(), nullptr, &error);
    if (n < 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free(error);
      return fail();
    }
    if (error) g_error_free(error);
    const size_t taken = n > 0 ? size_t(n) : 0;
    if (taken == frame.size()) return;
    pending_.assign(frame, taken);
    owner_.watch(*this, true);
    return;
  }
  pending_ += frame;
}

void WsConnection::flush() {
  while (!pending_.empty()) {
    GError *error = nullptr;
    const gssize n =
        g_pollable_output_stream_write_nonblocking(out_, pending_.data(), pending_.size(), nullptr, &error);
    if (n < 0) {
      const bool again = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      g_error_free(error);
      if (!again) fail();
      return;
    }
    pending_.erase(0, size_t(n));
  }
  std::string().swap(pending_);  // a slow reader's backlog does not stay allocated
  owner_.watch(*this, false);
  // The peer's close answered: the connection is over once the answer is out.
  if (peer_closed_) fail();
}

void WsConnection::writable() {
  if (state_ != State::Closed) flush();
}

void WsConnection::readable() {
  char buffer[16384];
  size_t read = 0;
  while (state_ != State::Closed) {
    GError *error = nullptr;
    const gssize n = g_pollable_input_stream_read_nonblocking(in_, buffer, sizeof buffer, nullptr, &error);
    if (n < 0) {
      const bool again = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      g_error_free(error);
      if (!again) fail();
      return;
    }
    if (n == 0) return fail();  // the peer went
    decoder_.feed(buffer, size_t(n));
    while (state_ != State::Closed) {
      auto event = decoder_.next();
      if (!event) break;
      switch (event->kind) {
        case ws::Event::Kind::Text:
          if (state_ == State::Open) handlers_.text(std::move(event->data));
          break;
        case ws::Event::Kind::Binary:
          if (state_ == State::Open) handlers_.binary();
          break;
        case ws::Event::Kind::Ping:
          queue(ws::encode(ws::Opcode::Pong, event->data));
          break;
        case ws::Event::Kind::Pong:
          break;
        case ws::Event::Kind::Close:
          peer_closed_ = true;
          if (state_ == State::Open) {
            // Answered with its own code, then the connection ends once the answer is out.
            begin_closing(event->code,
                          event->code == ws::kNoStatus ? std::string() : ws::close_payload(event->code, ""));
            if (state_ == State::Closing && pending_.empty()) fail();
          } else {
            fail();  // the answer to ours
          }
          break;
        case ws::Event::Kind::Error:
          handlers_.refused(event->data);
          close(event->code, event->data);
          peer_closed_ = true;  // nothing more is read from it: over once the close is out
          if (state_ != State::Closed && pending_.empty()) fail();
          break;
      }
    }
    read += size_t(n);
    if (read >= kReadPerPass) {
      owner_.again_.push_back(fd_);
      owner_.soon();
      return;
    }
  }
}

WsConnections::WsConnections() : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_fd_ < 0) g_error("epoll_create1: %s", g_strerror(errno));
  source_ = g_unix_fd_add(
      epoll_fd_, G_IO_IN,
      [](gint, GIOCondition, gpointer self) -> gboolean {
        static_cast<WsConnections *>(self)->pass();
        return G_SOURCE_CONTINUE;
      },
      this);
  // Closes that were not answered in time.
  sweep_ = g_timeout_add(
      500,
      [](gpointer data) -> gboolean {
        auto *self = static_cast<WsConnections *>(data);
        const gint64 now = g_get_monotonic_time();
        auto &closing = self->closing_;
        closing.erase(
            std::remove_if(closing.begin(), closing.end(),
                           [&](int fd) {
                             auto it = self->by_fd_.find(fd);
                             if (it == self->by_fd_.end() || it->second->state_ != WsConnection::State::Closing)
                               return true;
                             if (now < it->second->closing_deadline_us_) return false;
                             it->second->fail();
                             return true;
                           }),
            closing.end());
        return G_SOURCE_CONTINUE;
      },
      this);
}

WsConnections::~WsConnections() {
  g_source_remove(source_);
  g_source_remove(sweep_);
  if (idle_) g_source_remove(idle_);
  for (auto &[fd, c] : by_fd_) {
    shutdown(fd, SHUT_RDWR);
    g_io_stream_close(c->stream_.get(), nullptr, nullptr);
  }
  close(epoll_fd_);
}

WsConnection &WsConnections::adopt(GIOStream *stream, int fd, size_t max_message, WsConnection::Handlers handlers) {
  auto owned = std::unique_ptr<WsConnection>(new WsConnection(*this, stream, fd, max_message, std::move(handlers)));
  WsConnection &c = *owned;
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    g_warning("epoll_ctl ADD %d: %s", fd, g_strerror(errno));
    c.state_ = WsConnection::State::Closed;
    done_.push_back(fd);
    soon();
  }
  by_fd_[fd] = std::move(owned);
  // What TLS already decrypted, or what came with the upgrade, is read on the next pass.
  again_.push_back(fd);
  soon();
  return c;
}

void WsConnections::watch(WsConnection &c, bool out) {
  if (c.watching_out_ == out || c.state_ == WsConnection::State::Closed) return;
  c.watching_out_ = out;
  epoll_event event{};
  event.events = out ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  event.data.fd = c.fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd_, &event);
}

void WsConnections::soon() {
  if (idle_) return;
  idle_ = g_idle_add(
      [](gpointer self) -> gboolean {
        auto *connections = static_cast<WsConnections *>(self);
        connections->idle_ = 0;
        connections->pass();
        return G_SOURCE_REMOVE;
      },
      this);
}

void WsConnections::pass() {
  epoll_event events[256];
  const int n = epoll_wait(epoll_fd_, events, 256, 0);
  for (int i = 0; i < n; ++i) {
    auto it = by_fd_.find(events[i].data.fd);
    if (it == by_fd_.end()) continue;
    WsConnection &c = *it->second;
    if (events[i].events & EPOLLOUT) c.writable();
    if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) c.readable();
  }
  std::vector<int> again;
  again.swap(again_);
  for (int fd : again)
    if (auto it = by_fd_.find(fd); it != by_fd_.end()) it->second->readable();
  while (!done_.empty()) {
    std::vector<int> done;
    done.swap(done_);
    for (int fd : done) {
      auto it = by_fd_.find(fd);
      if (it != by_fd_.end()) finish(*it->second);
    }
  }
}

void WsConnections::finish(WsConnection &c) {
  const int fd = c.fd_;
  std::unique_ptr<WsConnection> gone = std::move(by_fd_.at(fd));
  by_fd_.erase(fd);
  c.state_ = WsConnection::State::Closed;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  if (gone->handlers_.closed) gone->handlers_.closed();
  shutdown(fd, SHUT_RDWR);
  g_io_stream_close(gone->stream_.get(), nullptr, nullptr);
}

}  // namespace sl::relay
