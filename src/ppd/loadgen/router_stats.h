// What a ppd router's /metrics says about a run: KV bytes moved, routing decisions by path,
// prefix-hit tokens. Read before and after the run; the difference belongs to the run (the
// router serves only the benchmark meanwhile). Parsing is pure; fetch_router_counters does
// one HTTP GET on its own io_context.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ppd/common/status.h"
#include "ppd/loadgen/chat_protocol.h"
#include "ppd/stats/router_counters.h"

namespace ppd::loadgen {

// Sums the samples of metric `name` (exact name; histograms' _bucket/_sum/_count lines are
// other names) whose labels include label="value" when `label` is not empty. Lines that are
// not samples are skipped. Pure.
double sum_samples(std::string_view text, std::string_view name, std::string_view label = {},
                   std::string_view value = {});

// The counters in a /metrics text, or nullopt when it has no ppd:router_decisions_total
// family (not a ppd router). Pure.
std::optional<stats::RouterCounters> parse_router_counters(std::string_view text);

// GET <host:port>/metrics: the counters, nullopt when the endpoint is not a ppd router or does
// not answer it.
std::optional<stats::RouterCounters> fetch_router_counters(const Endpoint& endpoint);

}  // namespace ppd::loadgen
