#include "ppd/cli/policy_flags.h"

#include <CLI/CLI.hpp>

namespace ppd::cli {

void add_policy_flags(CLI::App* cmd, experiment::PolicyFlags* f, const std::string& guard_flags) {
  routing::PolicyOptions& p = f->policy;
  cmd->add_option("--policy", p.name,
                  "Routing policy: pd (always remote), pd-full (pd with --transfer full), local "
                  "(turn 2+ on the decode node holding the conversation), split (a fixed share "
                  "of turn 2+ local, --split-local-share), threshold (Dynamo's rule), table (the "
                  "paper's lookup table), ppd (online cost model)")
      ->check(CLI::IsMember({"pd", "pd-full", "local", "split", "threshold", "table", "ppd"}))
      ->capture_default_str();
  cmd->add_option("--split-local-share", p.split.local_share,
                  "split: share of turn 2+ requests sent local, chosen by a "
                  "hash of the prompt (the PPD paper's 0<x<1)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--transfer", f->transfer,
                  "Remote path KV transfer: delta (only the blocks the decode node lacks) or full")
      ->check(CLI::IsMember({"delta", "full"}))
      ->capture_default_str();
  cmd->add_option("--w-ttft", p.ppd.w_ttft, "ppd: weight of the relative TTFT gain")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--w-tpot", p.ppd.w_tpot, "ppd: weight of the relative TPOT loss")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option(guard_flags + "-ttft-ms", f->guard_ttft_ms,
                  "ppd SLO mode: TTFT objective; per request (turn 1 "
                  "included) the path with fewer expected misses of the objectives, its own and those its stall "
                  "causes, wins (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option(guard_flags + "-tpot-ms", f->guard_tpot_ms, "ppd SLO mode: TPOT objective (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--default-link-bytes-per-s", f->default_link_bytes_per_s,
                  "ppd: link bandwidth assumed before a decode node reports its pulls")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--threshold-tokens", p.threshold.max_local_prefill_tokens,
                  "threshold: local iff uncached tokens < T ...")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--threshold-ratio", p.threshold.max_uncached_ratio,
                  "threshold: ... and uncached / prompt tokens < R")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--threshold-prefill-queue-tokens", f->threshold_prefill_queue_tokens,
                  "threshold: local when every prefill node queues more prefill tokens (-1: off)")
      ->capture_default_str();
  cmd->add_option("--threshold-decode-running", f->threshold_decode_running,
                  "threshold: remote when the decode node runs more requests (-1: off)")
      ->capture_default_str();
  cmd->add_option("--table", p.table_file, "table: the lookup table JSON file (format in docs/architecture.md)");
  cmd->add_option("--table-bypass-tokens", f->table_bypass_tokens, "table: new input below this goes local (-1: off)")
      ->capture_default_str();
}

}  // namespace ppd::cli
