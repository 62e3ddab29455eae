// `ppd bench transfer`: flags, the report and its JSON (the measurements are in
// bench_transfer_run.cc).
#include "ppd/cli/bench_transfer.h"

#include <cmath>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ppd/common/cpu_features.h"
#include "ppd/common/file.h"

namespace ppd::cli {
namespace {

struct BenchTransferFlags {
  TransferBenchOptions options;
  std::string json_path;
};

bool meets_target(const TransferBenchRow& r) { return r.ratio >= r.min_ratio && r.ratio <= r.max_ratio; }

std::string target_text(const TransferBenchRow& r) {
  const std::string range = std::isinf(r.max_ratio) ? fmt::format(">= {:.2f}", r.min_ratio)
                                                    : fmt::format("{:.2f}-{:.2f}", r.min_ratio, r.max_ratio);
  return range + (meets_target(r) ? " met" : " MISSED");
}

std::string size_text(int64_t bytes) {
  return bytes % (int64_t{1} << 20) == 0 ? fmt::format("{} MiB", bytes >> 20) : fmt::format("{} KiB", bytes >> 10);
}

Status run_bench_transfer(const BenchTransferFlags& f) {
  const std::string machine = describe_machine();
  std::cerr << "ppd bench transfer: " << machine << "\n";
  PPD_ASSIGN_OR_RETURN(const std::vector<TransferBenchRow> rows, run_transfer_bench(f.options, std::cerr));
  std::cout << format_transfer_bench(rows, f.options, machine);
  if (!f.json_path.empty()) {
    PPD_RETURN_IF_ERROR(write_file(f.json_path, transfer_bench_json(rows, f.options, machine)));
  }
  return Status::Ok();
}

}  // namespace

std::string format_transfer_bench(const std::vector<TransferBenchRow>& rows, const TransferBenchOptions& options,
                                  const std::string& machine) {
  std::string out = fmt::format("machine: {}\n", machine);
  out += fmt::format("loopback, one process; block_bytes {}; medians of {} samples\n", options.block_bytes,
                     options.repeats);
  out += fmt::format("{:<30} {:>8} {:>10} {:>12} {:<12} {:>6}  {}\n", "test", "size", "MB/s", "reference",
                     "", "ratio", "target");
  for (const TransferBenchRow& r : rows) {
    if (!r.has_target) {
      out += fmt::format("{:<30} {:>8} {:>10.1f} {:>12} {:<12} {:>6}  {}\n", r.test, size_text(r.bytes), r.mb_per_s,
                         "-", "", "-", "-");
      continue;
    }
    out += fmt::format("{:<30} {:>8} {:>10.1f} {:>12.1f} {:<12} {:>6.3f}  {}\n", r.test, size_text(r.bytes),
                       r.mb_per_s, r.reference_mb_per_s, r.reference, r.ratio, target_text(r));
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
    j["rows"].push_back({{"test", r.test}, {"bytes", r.bytes}, {"mb_per_s", r.mb_per_s},
                         {"reference", r.reference}, {"reference_mb_per_s", r.reference_mb_per_s},
                         {"ratio", r.ratio}, {"min_ratio", r.min_ratio},
                         {"max_ratio", std::isinf(r.max_ratio) ? nlohmann::json(nullptr) : nlohmann::json(r.max_ratio)},
                         {"has_target", r.has_target}, {"met", !r.has_target || meets_target(r)}});
  }
  return j.dump(2) + "\n";
}

void register_bench_transfer(CLI::App* bench, int* exit_code) {
  auto flags = std::make_shared<BenchTransferFlags>();
  TransferBenchOptions& o = flags->options;
  CLI::App* cmd = bench->add_subcommand(
      "transfer", "KV transfer throughput on loopback: TCP pulls against a plain socket copy, and the emulated link "
                  "against its configured bandwidth");
  cmd->add_option("--sizes-mib", o.sizes_mib, "Bytes per pull, in MiB (each timed sample repeats small pulls)")
      ->delimiter(',')->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--block-bytes", o.block_bytes, "Bytes per KV block; a pull moves size / block-bytes blocks")
      ->check(CLI::Range(int64_t{4096}, int64_t{64} << 20))->capture_default_str();
  cmd->add_option("--repeats", o.repeats, "Timed samples per size (medians are reported; TCP pulls and socket "
                                          "copies alternate)")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--link-bytes-per-s", o.link_bytes_per_s,
                  "Bandwidths of the emulated links to measure, bytes/s (e.g. 2e9,200e6); 0 skips the link test")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--link-inner", o.link_inner, "Transport under the emulated link: in-process or tcp")
      ->check(CLI::IsMember({"in-process", "tcp"}))->capture_default_str();
  cmd->add_option("--json", flags->json_path, "Also write the results as JSON to this file");
  cmd->callback([flags, exit_code] {
    const Status status = run_bench_transfer(*flags);
    if (!status.ok()) std::cerr << "ppd bench transfer: " << status.message() << "\n";
    *exit_code = status.ok() ? 0 : 1;
  });
}

}  // namespace ppd::cli
