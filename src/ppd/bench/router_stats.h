// What a ppd router's /metrics says about a run: KV bytes moved, routing decisions by path,
// prefix-hit tokens. Read before and after the run; the difference belongs to the run (the
// router serves only the benchmark meanwhile). Parsing is pure; fetch_router_counters does
// one HTTP GET on its own io_context.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ppd/bench/chat_protocol.h"
#include "ppd/common/status.h"

namespace ppd::bench {

struct RouterCounters {
  double kv_transfer_bytes = 0;        // ppd:kv_transfer_bytes_total
  double local_decisions = 0;          // ppd:router_decisions_total{path="local"}
  double remote_decisions = 0;         // ppd:router_decisions_total{path="remote"}
  double prefix_hit_tokens_local = 0;  // ppd:prefix_hit_tokens_total{path="local"}
  double prefix_hit_tokens_remote = 0;
  double prompt_tokens = 0;            // ppd:prompt_tokens_total
  double retries = 0;                  // ppd:router_retries_total
};

// Sums the samples of metric `name` (exact name; histograms' _bucket/_sum/_count lines are
// other names) whose labels include label="value" when `label` is not empty. Lines that are
// not samples are skipped. Pure.
double sum_samples(std::string_view text, std::string_view name, std::string_view label = {},
                   std::string_view value = {});

// The counters in a /metrics text, or nullopt when it has no ppd:router_decisions_total
// family (not a ppd router). Pure.
std::optional<RouterCounters> parse_router_counters(std::string_view text);

// after - before, field by field.
RouterCounters difference(const RouterCounters& after, const RouterCounters& before);

// GET <host:port>/metrics: the counters, nullopt when the endpoint is not a ppd router or does
// not answer it.
std::optional<RouterCounters> fetch_router_counters(const Endpoint& endpoint);

// {kv_transfer_bytes, local_decisions, remote_decisions, local_share, prefix_hit_tokens{local,
// remote}, retries}; local_share = local / (local + remote), 0 with no decision.
nlohmann::json to_json(const RouterCounters& c);

}  // namespace ppd::bench
