#include "ppd/node/telemetry.h"

#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace ppd::node {

void Telemetry::on_step(const engine::StepStats& stats) {
  std::lock_guard lock(mu_);
  last_ = stats;
  ++num_steps_;
  if (stats.num_prefill_tokens == 0 && stats.num_decode_sequences == 0) return;
  spdlog::debug("step prefill_tokens={} decodes={} context_tokens={} step_us={}", stats.num_prefill_tokens,
                stats.num_decode_sequences, stats.num_context_tokens, stats.step_time_ns / 1000);
  sched::push_report_step(&recent_steps_, stats);
}

void Telemetry::on_state(const engine::StepStats& state) {
  std::lock_guard lock(mu_);
  last_ = state;
}

void Telemetry::on_kv_events(std::vector<kv::KvEvent> events) {
  auto hex = [](std::span<const BlockHash> hashes) {
    nlohmann::json out = nlohmann::json::array();
    for (BlockHash h : hashes) out.push_back(fmt::format("{:016x}", h.value));
    return out;
  };
  std::vector<std::string> lines;
  for (const kv::KvEventMessage& m : kv::to_wire_messages(events)) {
    lines.push_back(
        nlohmann::json{{"type", "kv_events"}, {"node", node_}, {"stored", hex(m.stored)}, {"removed", hex(m.removed)}}
            .dump());
  }
  std::lock_guard lock(mu_);
  for (const std::string& line : lines) broadcast_locked(line);
}

void Telemetry::record_transfer(int64_t bytes, int64_t duration_ns) {
  if (bytes <= 0 || duration_ns <= 0) return;
  std::lock_guard lock(mu_);
  transfer_rate_.record(bytes, duration_ns);
  transfer_bytes_total_ += bytes;
}

void Telemetry::set_draining(bool draining) {
  std::lock_guard lock(mu_);
  draining_ = draining;
}

void Telemetry::set_num_pinned_handles(int n) {
  std::lock_guard lock(mu_);
  num_pinned_handles_ = n;
}

std::shared_ptr<EventChannel> Telemetry::subscribe(boost::asio::any_io_executor executor) {
  auto channel = std::make_shared<EventChannel>(executor, kMaxBacklog);
  std::lock_guard lock(mu_);
  subscribers_.push_back(channel);
  return channel;
}

void Telemetry::broadcast_locked(const std::string& line) {
  std::erase_if(subscribers_, [&](const std::shared_ptr<EventChannel>& c) {
    if (c->try_send(boost::system::error_code{}, line)) return false;
    c->close();  // closed by its reader, or too far behind
    return true;
  });
}

nlohmann::json Telemetry::load_snapshot() const {
  std::lock_guard lock(mu_);
  return {{"type", "load"},
          {"node", node_},
          {"time_ns", clock_->now_ns()},
          {"num_waiting", last_.num_waiting},
          {"num_running", last_.num_running},
          {"num_pending_prefill_tokens", last_.num_pending_prefill_tokens},
          {"num_free_blocks", last_.num_free_blocks},
          {"num_pinned_handles", num_pinned_handles_},
          {"draining", draining_},
          {"num_steps", num_steps_},
          {"transfer_bytes_per_s", transfer_rate_.bytes_per_s()},
          {"transfer_bytes_total", transfer_bytes_total_}};
}

nlohmann::json Telemetry::publish_load_report() {
  nlohmann::json report = load_snapshot();
  // [prefill tokens, decode sequences, decode context tokens, step µs, prefill pairs]
  nlohmann::json steps = nlohmann::json::array();
  std::lock_guard lock(mu_);
  for (const engine::StepStats& s : recent_steps_) {
    steps.push_back({s.num_prefill_tokens, s.num_decode_sequences, s.num_decode_context_tokens, s.step_time_ns / 1000,
                     s.num_prefill_pairs});
  }
  recent_steps_.clear();
  report["recent_steps"] = std::move(steps);
  broadcast_locked(report.dump());
  return report;
}

}  // namespace ppd::node
