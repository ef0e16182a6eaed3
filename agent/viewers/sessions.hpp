// The agent's viewer sessions: starts one per offer the relay forwards, routes
// trickled candidates and ends to it, reports answers and candidates back, and
// keeps the relay told how many branches are live.
#pragma once

#include "capture/capture_pipeline.hpp"
#include "protocol.hpp"
#include "settings.hpp"
#include "viewer_session.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace sl::agent {

class Sessions {
 public:
  using Send = std::function<void(const std::string &json)>;
  Sessions(CapturePipeline &pipeline, const AgentSettings &settings, Send send);

  void handle(const proto::RelayToAgent &message);
  // Ends every session. `tell_relay`: the relay passes the reason on to each viewer
  // (a restarted pipeline: the page asks again at once); false when the link to
  // the relay dropped, since the relay forgot those sessions with it.
  void end_all(const std::string &reason, bool tell_relay);
  // Ends the sessions fed by `branch`: a viewer's branch bin, or an RTP stream's
  // bin (all the viewers of that stream).
  void end_for_branch(GstElement *branch, const std::string &reason);
  proto::Status status() const;
  // Called every few seconds: measures what the encoder produced and reports it.
  void measure_and_report();
  size_t count() const { return sessions_.size(); }
  const Figures &figures() const { return figures_; }
  // Called after every change of the session count and every measurement.
  void set_on_change(std::function<void()> on_change) { on_change_ = std::move(on_change); }
  // Reports the figures to the relay now (e.g. after the size changed).
  void report_status();

 private:
  void on_offer(const proto::Offer &offer);
  // By value: callers pass keys of the map this erases from.
  void end(std::string id, const std::string &reason, bool tell_relay);

  CapturePipeline &pipeline_;
  const AgentSettings &settings_;
  Send send_;
  std::shared_ptr<SessionEvents> events_;
  std::map<std::string, std::unique_ptr<ViewerSession>> sessions_;
  Figures figures_;
  std::function<void()> on_change_;
};

}  // namespace sl::agent
