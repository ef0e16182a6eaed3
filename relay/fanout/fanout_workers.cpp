#include "fanout_workers.hpp"

#include "gobj.hpp"

#include <glib/gstdio.h>
#include <sys/prctl.h>

#include <csignal>

namespace sl::relay {

namespace {
// The worker dies with the relay, whatever way the relay ends.
void die_with_parent(gpointer) { prctl(PR_SET_PDEATHSIG, SIGTERM); }

std::string host_for_url(const std::string &host) {
  if (host.empty() || host == "0.0.0.0") return "127.0.0.1";
  if (host == "::") return "[::1]";
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}
}  // namespace

std::string FanoutWorkers::find_agent(const std::string &setting) {
  if (!setting.empty()) return setting;
  OwnedStr self(g_file_read_link("/proc/self/exe", nullptr));
  if (self) {
    OwnedStr dir(g_path_get_dirname(self.get()));
    for (const char *relative : {"sightline-agent", "../agent/sightline-agent"}) {
      OwnedStr path(g_build_filename(dir.get(), relative, nullptr));
      if (g_file_test(path.get(), G_FILE_TEST_IS_EXECUTABLE)) return path.get();
    }
  }
  OwnedStr found(g_find_program_in_path("sightline-agent"));
  return found ? found.get() : "";
}

FanoutWorkers::FanoutWorkers(const RelaySettings &settings, std::string key)
    : agent_(find_agent(settings.fanout_agent)), ice_addresses_(settings.fanout_ice_addresses) {
  const bool tls = !settings.tls_cert.empty();
  const std::string where = host_for_url(settings.listen_host) + ":" + std::to_string(settings.listen_port);
  relay_url_ = (tls ? "wss://" : "ws://") + where;
  whep_url_ = (tls ? "https://" : "http://") + where + "/whep/";
  if (tls) ca_file_ = settings.tls_cert;
  GError *error = nullptr;
  OwnedStr dir(g_dir_make_tmp("sightline-fanout-XXXXXX", &error));  // 0700
  if (!dir) {
    g_warning("fan-out: no folder for the workers' key (%s): cameras are served directly", error->message);
    g_error_free(error);
    return;
  }
  dir_ = dir.get();
  key_file_ = dir_ + "/worker.key";
  if (!g_file_set_contents_full(key_file_.c_str(), key.c_str(), gssize(key.size()), G_FILE_SET_CONTENTS_CONSISTENT,
                                0600, &error)) {
    g_warning("fan-out: cannot write %s (%s): cameras are served directly", key_file_.c_str(), error->message);
    g_error_free(error);
    g_rmdir(dir_.c_str());
    dir_.clear();
  }
}

FanoutWorkers::~FanoutWorkers() {
  for (auto &[device, child] : children_) {
    g_source_remove(child.watch);
    kill(child.pid, SIGTERM);
    g_spawn_close_pid(child.pid);
  }
  if (!dir_.empty()) {
    g_unlink(key_file_.c_str());
    g_rmdir(dir_.c_str());
  }
}

void FanoutWorkers::start(const StartWorker &worker) {
  if (!available() || children_.count(worker.device)) return;
  OwnedStr escaped(g_uri_escape_string(worker.camera.c_str(), nullptr, FALSE));
  std::vector<std::string> args = {agent_,
                                   "--id",
                                   worker.device,
                                   "--relay",
                                   relay_url_,
                                   "--source",
                                   "whep:" + whep_url_ + escaped.get(),
                                   "--whep-token-file",
                                   key_file_,
                                   "--device-secret-file",
                                   key_file_,
                                   "--reconnect-max",
                                   "2"};
  if (!ca_file_.empty()) args.insert(args.end(), {"--ca-file", ca_file_});
  if (worker.sound) args.insert(args.end(), {"--audio", "camera"});  // the camera's sound, passed on
  for (const auto &address : ice_addresses_) args.insert(args.end(), {"--ice-address", address});
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  GPid pid = 0;
  GError *error = nullptr;
  if (!g_spawn_async(nullptr, argv.data(), nullptr, GSpawnFlags(G_SPAWN_DO_NOT_REAP_CHILD), die_with_parent, nullptr,
                     &pid, &error)) {
    g_warning("fan-out: camera %s: cannot start %s: %s", worker.camera.c_str(), agent_.c_str(), error->message);
    g_error_free(error);
    return;
  }
  g_message("fan-out: camera %s: worker %s started (pid %d)", worker.camera.c_str(), worker.device.c_str(), int(pid));
  Child &child = children_[worker.device];
  child.pid = pid;
  child.camera = worker.camera;
  struct Ctx {
    FanoutWorkers *self;
    std::string device;
  };
  child.watch = g_child_watch_add_full(
      G_PRIORITY_DEFAULT, pid,
      +[](GPid ended, gint status, gpointer data) {
        auto *c = static_cast<Ctx *>(data);
        auto it = c->self->children_.find(c->device);
        if (it != c->self->children_.end() && it->second.pid == ended) {
          GError *why = nullptr;
          if (g_spawn_check_wait_status(status, &why) || it->second.stopping)
            g_message("fan-out: worker %s (camera %s) ended", c->device.c_str(), it->second.camera.c_str());
          else
            g_warning("fan-out: worker %s (camera %s) ended: %s", c->device.c_str(), it->second.camera.c_str(),
                      why->message);
          g_clear_error(&why);
          c->self->children_.erase(it);
        }
        g_spawn_close_pid(ended);
      },
      new Ctx{this, worker.device}, [](gpointer d) { delete static_cast<Ctx *>(d); });
}

void FanoutWorkers::stop(const std::string &device) {
  auto it = children_.find(device);
  if (it == children_.end()) return;
  it->second.stopping = true;
  kill(it->second.pid, SIGTERM);  // its child watch forgets it when it has ended
}

}  // namespace sl::relay
