#include "address_watch.hpp"

#include "main_context.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <iterator>
#include <sstream>
#include <vector>

namespace sl::agent {

std::string candidate_local_address(const std::string &candidate) {
  // candidate:FOUNDATION COMPONENT TRANSPORT PRIORITY ADDRESS PORT typ TYPE [raddr ADDRESS rport PORT] ...
  std::istringstream in(candidate);
  std::vector<std::string> words{std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
  if (words.size() < 8 || words[6] != "typ") return {};
  if (words[7] == "host") return words[4];
  for (size_t i = 8; i + 1 < words.size(); i += 2)
    if (words[i] == "raddr") return words[i + 1];
  return {};
}

std::set<std::string> local_addresses() {
  std::set<std::string> out;
  ifaddrs *all = nullptr;
  if (getifaddrs(&all) != 0) return out;
  for (const ifaddrs *a = all; a; a = a->ifa_next) {
    if (!a->ifa_addr || !(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK)) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in *>(a->ifa_addr)->sin_addr, text, sizeof text);
    else if (a->ifa_addr->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 *>(a->ifa_addr)->sin6_addr, text, sizeof text);
    if (*text) out.insert(text);
  }
  freeifaddrs(all);
  return out;
}

AddressWatch::AddressWatch(std::function<void(const std::set<std::string> &gone)> gone)
    : gone_(std::move(gone)), known_(local_addresses()), monitor_(g_network_monitor_get_default()) {
  if (monitor_)
    changed_handler_ = g_signal_connect(
        monitor_, "network-changed",
        G_CALLBACK(+[](GNetworkMonitor *, gboolean, gpointer self) { static_cast<AddressWatch *>(self)->check(); }),
        this);
  poll_.reset(every_ms(1000, [this] {
    check();
    return true;
  }));
}

AddressWatch::~AddressWatch() {
  if (changed_handler_) g_signal_handler_disconnect(monitor_, changed_handler_);
}

void AddressWatch::check() {
  std::set<std::string> now = local_addresses(), gone;
  std::set_difference(known_.begin(), known_.end(), now.begin(), now.end(), std::inserter(gone, gone.end()));
  known_ = std::move(now);
  if (!gone.empty()) gone_(gone);
}

}  // namespace sl::agent
