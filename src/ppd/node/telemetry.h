// Telemetry: a node's live state for routers: KV events (blocks stored in and removed from
// the prefix cache, by hash) and load reports (queues, free blocks, the steps since the last
// report, observed transfer bandwidth), published as JSON lines to subscribers. Fed by the
// engine thread (StepObserver) and the network thread (transfers). Thread-safe.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <nlohmann/json.hpp>

#include "ppd/common/clock.h"
#include "ppd/node/engine_loop.h"
#include "ppd/sched/load_report.h"

namespace ppd::node {

using EventChannel = boost::asio::experimental::concurrent_channel<void(boost::system::error_code, std::string)>;

class Telemetry final : public StepObserver {
 public:
  // `node` names the node in every event. `clock` stamps reports; it must outlive this.
  Telemetry(std::string node, const Clock* clock) : node_(std::move(node)), clock_(clock) {}

  void on_step(const engine::StepStats& stats) override;
  void on_state(const engine::StepStats& state) override;
  void on_kv_events(std::vector<kv::KvEvent> events) override;
  void record_transfer(int64_t bytes, int64_t duration_ns);
  void set_num_pinned_handles(int n);
  void set_draining(bool draining);  // reported as "draining" in every load snapshot

  // A new subscriber's channel; it receives JSON lines until it is closed or falls
  // kMaxBacklog lines behind (then it is closed and dropped).
  std::shared_ptr<EventChannel> subscribe(boost::asio::any_io_executor executor);
  // Sends a load report to every subscriber and returns it; the steps in it are those
  // since the previous report (at most sched::kMaxReportSteps, the latest).
  nlohmann::json publish_load_report();
  // The latest queue state, without consuming the recent steps.
  nlohmann::json load_snapshot() const;

  static constexpr size_t kMaxBacklog = 4096;

 private:
  void broadcast_locked(const std::string& line);

  std::string node_;
  const Clock* clock_;
  mutable std::mutex mu_;
  engine::StepStats last_{};
  std::deque<engine::StepStats> recent_steps_;
  int64_t num_steps_ = 0;
  int num_pinned_handles_ = 0;
  bool draining_ = false;
  sched::TransferRateAverage transfer_rate_;
  int64_t transfer_bytes_total_ = 0;
  std::vector<std::shared_ptr<EventChannel>> subscribers_;
};

}  // namespace ppd::node
