#include "ppd/cli/bench_workload_flags.h"

#include <CLI/CLI.hpp>

namespace ppd::cli {

void add_workload_flags(CLI::App* cmd, experiment::WorkloadFlags* f) {
  cmd->add_option("--workload", f->kind,
                  "Conversations: paper (the PPD paper's synthetic 2-turn set), "
                  "distribution, mooncake, azure, sharegpt")
      ->capture_default_str();
  cmd->add_option("--trace", f->trace,
                  "Trace file for mooncake/azure (default: the copy under $PPD_SHARED_DIR/traces) "
                  "or the ShareGPT JSON file (required for sharegpt)");
  cmd->add_option("--num-conversations", f->num_conversations,
                  "Conversations to run (0: paper 90, "
                  "distribution 100, traces all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--scale", f->scale, "Multiply every token length (e.g. 0.25 to fit a small model's context)")
      ->check(CLI::Range(1e-3, 16.0))
      ->capture_default_str();
  cmd->add_option("--time-scale", f->time_scale, "Traces without --rate: multiply their timestamps")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-context", f->max_context_tokens,
                  "Drop turns whose prompt plus answer exceeds this many "
                  "tokens (0: keep all)")
      ->capture_default_str();
  cmd->add_option("--paper-contexts", f->paper_contexts,
                  "paper: turn-1 contexts, of small (128->128), large "
                  "(1024->1024); default both")
      ->delimiter(',');
  cmd->add_option("--paper-types", f->paper_types,
                  "paper: turn-2 types (default all nine: tiny, short_gen, long_gen, "
                  "very_long_gen, small_bal, mid_bal, mid_paste, big_paste, huge_paste)")
      ->delimiter(',');
  cmd->add_option("--min-turns", f->min_turns, "distribution, azure: fewest turns per conversation")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--max-turns", f->max_turns, "distribution, azure: most turns per conversation")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--system-tokens", f->system_tokens, "distribution: system prompt tokens, MIN:MAX (0: none)")
      ->capture_default_str();
  cmd->add_option("--first-user-tokens", f->first_user_tokens, "distribution: turn 1 message tokens, MIN:MAX")
      ->capture_default_str();
  cmd->add_option("--user-tokens", f->user_tokens, "distribution: later messages' tokens, MIN:MAX")
      ->capture_default_str();
  cmd->add_option("--output-tokens", f->output_tokens, "distribution: answer tokens, MIN:MAX")->capture_default_str();
  cmd->add_option("--think-time-s", f->think_time_s,
                  "paper, distribution: mean think time between turns "
                  "(exponential; 0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "Seed of the conversations, arrivals and texts")->capture_default_str();
}

void add_load_flags(CLI::App* cmd, loadgen::LoadOptions* o) {
  cmd->add_option("--concurrency", o->max_concurrency, "Requests in flight at most (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--warmup", o->num_warmup_conversations, "Run the first N conversations unmeasured")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--duration-s", o->duration_s, "Send no turn after this many seconds (0: run the whole workload)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--timeout-ms", o->request_timeout_ms, "Per request, the whole stream; a timeout is a failure")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--temperature", o->temperature, "Sampling temperature")
      ->check(CLI::Range(0.0, 2.0))
      ->capture_default_str();
  cmd->add_flag("!--no-ignore-eos", o->ignore_eos, "Do not send ignore_eos (answers may end before max_tokens)");
  cmd->add_flag("!--no-progress", o->show_progress, "No progress bar on stderr");
}

void add_slo_flags(CLI::App* cmd, experiment::SloFlags* f) {
  cmd->add_option("--slo-ttft-ms", f->ttft_ms, "TTFT objective for SLO attainment and goodput (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--slo-tpot-ms", f->tpot_ms, "TPOT objective (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--slo-e2e-ms", f->e2e_ms, "End-to-end latency objective (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

}  // namespace ppd::cli
