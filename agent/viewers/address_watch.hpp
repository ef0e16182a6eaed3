// The agent's own addresses, and which of them go away. A camera that moves to
// another network (a new DHCP lease, Wi-Fi to wired, a mobile uplink's new
// address) keeps its viewers' sessions only if they move with it: webrtcbin
// 1.22 and libnice 0.1.21 gather a session's candidates once, on the addresses
// there were then, and an ICE restart cannot add new ones. So each session
// whose candidates stood on an address that is gone is renewed on a new
// connection (Sessions::addresses_gone, docs/protocol.md "Renewing a session").
#pragma once

#include "gobj.hpp"

#include <gio/gio.h>

#include <functional>
#include <set>
#include <string>

namespace sl::agent {

// The addresses a candidate was gathered on: a host candidate's own address, a
// server-reflexive or relayed one's base (raddr). "" when it names none.
std::string candidate_local_address(const std::string &candidate);

// The local IPv4 and IPv6 addresses of this host's interfaces that are up (not
// loopback), as text.
std::set<std::string> local_addresses();

// Watches them: GLib's network monitor says when routes change (netlink), and
// they are read again each second as well (a monitor backed by NetworkManager
// does not say every address change). `gone` gets those that went away.
class AddressWatch {
 public:
  explicit AddressWatch(std::function<void(const std::set<std::string> &gone)> gone);
  ~AddressWatch();
  AddressWatch(const AddressWatch &) = delete;
  AddressWatch &operator=(const AddressWatch &) = delete;

 private:
  void check();

  std::function<void(const std::set<std::string> &)> gone_;
  std::set<std::string> known_;
  GNetworkMonitor *monitor_ = nullptr;  // GLib's, not ours to unref
  gulong changed_handler_ = 0;
  SourceId poll_;
};

}  // namespace sl::agent
