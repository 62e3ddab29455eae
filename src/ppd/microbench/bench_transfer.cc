// `ppd bench transfer`: flags, the report and its JSON (the measurements are in
// bench_transfer_run.cc).
#include "ppd/microbench/bench_transfer.h"

#include <cmath>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ppd/common/cpu_features.h"
#include "ppd/common/file.h"

namespace ppd::microbench {
namespace {

bool meets_target(const TransferBenchRow& r) { return r.ratio >= r.min_ratio && r.ratio <= r.max_ratio; }

std::string target_text(const TransferBenchRow& r) {
  const std::string range = std::isinf(r.max_ratio) ? fmt::format(">= {:.2f}", r.min_ratio)
                                                    : fmt::format("{:.2f}-{:.2f}", r.min_ratio, r.max_ratio);
  return range + (meets_target(r) ? " met" : " MISSED");
}

std::string size_text(int64_t bytes) {
  return bytes % (int64_t{1} << 20) == 0 ? fmt::format("{} MiB", bytes >> 20) : fmt::format("{} KiB", bytes >> 10);
}

}  // namespace

std::string format_transfer_bench(const std::vector<TransferBenchRow>& rows, const TransferBenchOptions& options,
                                  const std::string& machine) {
  std::string out = fmt::format("machine: {}\n", machine);
  out += fmt::format("loopback, one process; block_bytes {}; medians of {} samples\n", options.block_bytes,
                     options.repeats);
  out += fmt::format("{:<30} {:>8} {:>10} {:>12} {:<12} {:>6}  {}\n", "test", "size", "MB/s", "reference", "", "ratio",
                     "target");
  for (const TransferBenchRow& r : rows) {
    if (!r.has_target) {
      out += fmt::format("{:<30} {:>8} {:>10.1f} {:>12} {:<12} {:>6}  {}\n", r.test, size_text(r.bytes), r.mb_per_s,
                         "-", "", "-", "-");
      continue;
    }
    out += fmt::format("{:<30} {:>8} {:>10.1f} {:>12.1f} {:<12} {:>6.3f}  {}\n", r.test, size_text(r.bytes), r.mb_per_s,
                       r.reference_mb_per_s, r.reference, r.ratio, target_text(r));
  }
  return out;
}

std::string transfer_bench_json(const std::vector<TransferBenchRow>& rows, const TransferBenchOptions& options,
                                const std::string& machine) {
  nlohmann::json j;
  j["machine"] = machine;
  j["block_bytes"] = options.block_bytes;
  j["repeats"] = options.repeats;
  j["link_inner"] = options.link_inner;
  j["rows"] = nlohmann::json::array();
  for (const TransferBenchRow& r : rows) {
    j["rows"].push_back({{"test", r.test},
                         {"bytes", r.bytes},
                         {"mb_per_s", r.mb_per_s},
                         {"reference", r.reference},
                         {"reference_mb_per_s", r.reference_mb_per_s},
                         {"ratio", r.ratio},
                         {"min_ratio", r.min_ratio},
                         {"max_ratio", std::isinf(r.max_ratio) ? nlohmann::json(nullptr) : nlohmann::json(r.max_ratio)},
                         {"has_target", r.has_target},
                         {"met", !r.has_target || meets_target(r)}});
  }
  return j.dump(2) + "\n";
}

}  // namespace ppd::microbench
