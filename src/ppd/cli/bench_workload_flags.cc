#include "ppd/cli/bench_workload_flags.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "ppd/workload/arrivals.h"
#include "ppd/workload/distribution.h"
#include "ppd/workload/sharegpt.h"
#include "ppd/workload/synthetic.h"
#include "ppd/workload/traces.h"

namespace ppd::cli {
namespace {

bool parse_int(std::string_view text, int64_t* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

// "A:B" or "A" (A:A), 0 <= A <= B (min_value 1 unless zero is allowed).
Result<workload::LengthRange> parse_range(std::string_view flag, std::string_view text, int64_t min_value) {
  const size_t colon = text.find(':');
  workload::LengthRange r;
  const bool ok = parse_int(text.substr(0, colon), &r.min) &&
                  parse_int(colon == std::string_view::npos ? text : text.substr(colon + 1), &r.max) &&
                  r.min >= min_value && r.min <= r.max;
  if (!ok) return invalid_argument("{}: must be MIN:MAX with {} <= MIN <= MAX; got \"{}\"", flag, min_value, text);
  return r;
}

std::string default_trace(std::string_view kind) {
  const char* shared = std::getenv("PPD_SHARED_DIR");
  const std::filesystem::path root = std::filesystem::path(shared != nullptr ? shared : "../shared") / "traces";
  if (kind == "mooncake") return (root / "mooncake-fast25" / "conversation_trace.jsonl").string();
  return (root / "azure-llm-2023" / "AzureLLMInferenceTrace_conv.csv").string();
}

Result<workload::Workload> paper(const WorkloadFlags& f) {
  workload::PaperOptions o{.contexts = f.paper_contexts, .turn2_types = f.paper_types, .scale = f.scale,
                           .mean_think_time_s = f.think_time_s, .seed = f.seed};
  if (f.num_conversations > 0) o.num_conversations = f.num_conversations;
  return workload::make_paper_workload(o);
}

Result<workload::Workload> distribution(const WorkloadFlags& f) {
  workload::DistributionOptions o{.min_turns = f.min_turns, .max_turns = f.max_turns,
                                  .mean_think_time_s = f.think_time_s, .scale = f.scale, .seed = f.seed};
  if (f.num_conversations > 0) o.num_conversations = f.num_conversations;
  PPD_ASSIGN_OR_RETURN(o.system_tokens, parse_range("--system-tokens", f.system_tokens, 0));
  PPD_ASSIGN_OR_RETURN(o.first_user_tokens, parse_range("--first-user-tokens", f.first_user_tokens, 1));
  PPD_ASSIGN_OR_RETURN(o.user_tokens, parse_range("--user-tokens", f.user_tokens, 1));
  PPD_ASSIGN_OR_RETURN(o.output_tokens, parse_range("--output-tokens", f.output_tokens, 1));
  return workload::make_distribution_workload(o);
}

Result<workload::Workload> trace(const WorkloadFlags& f, const loadgen::PromptText& count) {
  const std::string path = f.trace.empty() ? default_trace(f.kind) : f.trace;
  if (f.kind == "sharegpt") {
    if (f.trace.empty()) return invalid_argument("--trace: the sharegpt workload needs a file; got none");
    const workload::ShareGptOptions o{.max_conversations = f.num_conversations};
    return workload::read_sharegpt(path, o, [&count](std::string_view text) {
      return count.count_tokens(std::string(text));
    });
  }
  const workload::TraceOptions o{.length_scale = f.scale, .time_scale = f.time_scale,
                                 .max_conversations = f.num_conversations, .min_turns = f.min_turns,
                                 .max_turns = f.max_turns, .seed = f.seed};
  return f.kind == "mooncake" ? workload::read_mooncake_trace(path, o) : workload::read_azure_trace(path, o);
}

Result<workload::Workload> shapes(const WorkloadFlags& f, const loadgen::PromptText& count) {
  if (f.kind == "paper") return paper(f);
  if (f.kind == "distribution") return distribution(f);
  if (f.kind == "mooncake" || f.kind == "azure" || f.kind == "sharegpt") return trace(f, count);
  return invalid_argument("--workload: unknown \"{}\"; supported: paper, distribution, mooncake, azure, sharegpt",
                          f.kind);
}

bool is_trace_with_times(std::string_view kind) { return kind == "mooncake" || kind == "azure"; }

}  // namespace

void add_workload_flags(CLI::App* cmd, WorkloadFlags* f) {
  cmd->add_option("--workload", f->kind, "Conversations: paper (the PPD paper's synthetic 2-turn set), "
                                         "distribution, mooncake, azure, sharegpt")->capture_default_str();
  cmd->add_option("--trace", f->trace, "Trace file for mooncake/azure (default: the copy under $PPD_SHARED_DIR/traces) "
                                       "or the ShareGPT JSON file (required for sharegpt)");
  cmd->add_option("--num-conversations", f->num_conversations, "Conversations to run (0: paper 90, "
                                                               "distribution 100, traces all)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--scale", f->scale, "Multiply every token length (e.g. 0.25 to fit a small model's context)")
      ->check(CLI::Range(1e-3, 16.0))->capture_default_str();
  cmd->add_option("--time-scale", f->time_scale, "Traces without --rate: multiply their timestamps")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-context", f->max_context_tokens, "Drop turns whose prompt plus answer exceeds this many "
                                                          "tokens (0: keep all)")->capture_default_str();
  cmd->add_option("--paper-contexts", f->paper_contexts, "paper: turn-1 contexts, of small (128->128), large "
                                                         "(1024->1024); default both")->delimiter(',');
  cmd->add_option("--paper-types", f->paper_types, "paper: turn-2 types (default all nine: tiny, short_gen, long_gen, "
                                                   "very_long_gen, small_bal, mid_bal, mid_paste, big_paste, huge_paste)")
      ->delimiter(',');
  cmd->add_option("--min-turns", f->min_turns, "distribution, azure: fewest turns per conversation")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--max-turns", f->max_turns, "distribution, azure: most turns per conversation")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--system-tokens", f->system_tokens, "distribution: system prompt tokens, MIN:MAX (0: none)")
      ->capture_default_str();
  cmd->add_option("--first-user-tokens", f->first_user_tokens, "distribution: turn 1 message tokens, MIN:MAX")
      ->capture_default_str();
  cmd->add_option("--user-tokens", f->user_tokens, "distribution: later messages' tokens, MIN:MAX")
      ->capture_default_str();
  cmd->add_option("--output-tokens", f->output_tokens, "distribution: answer tokens, MIN:MAX")->capture_default_str();
  cmd->add_option("--think-time-s", f->think_time_s, "paper, distribution: mean think time between turns "
                                                     "(exponential; 0: none)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--seed", f->seed, "Seed of the conversations, arrivals and texts")->capture_default_str();
}

void add_load_flags(CLI::App* cmd, loadgen::LoadOptions* o) {
  cmd->add_option("--concurrency", o->max_concurrency, "Requests in flight at most (0: no limit)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--warmup", o->num_warmup_conversations, "Run the first N conversations unmeasured")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--duration-s", o->duration_s, "Send no turn after this many seconds (0: run the whole workload)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--timeout-ms", o->request_timeout_ms, "Per request, the whole stream; a timeout is a failure")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--temperature", o->temperature, "Sampling temperature")->check(CLI::Range(0.0, 2.0))
      ->capture_default_str();
  cmd->add_flag("!--no-ignore-eos", o->ignore_eos, "Do not send ignore_eos (answers may end before max_tokens)");
  cmd->add_flag("!--no-progress", o->show_progress, "No progress bar on stderr");
}

void add_slo_flags(CLI::App* cmd, SloFlags* f) {
  cmd->add_option("--slo-ttft-ms", f->ttft_ms, "TTFT objective for SLO attainment and goodput (0: none)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--slo-tpot-ms", f->tpot_ms, "TPOT objective (0: none)")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--slo-e2e-ms", f->e2e_ms, "End-to-end latency objective (0: none)")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

stats::Slo to_slo(const SloFlags& f) { return stats::Slo{.ttft_ms = f.ttft_ms, .tpot_ms = f.tpot_ms, .e2e_ms = f.e2e_ms}; }

Result<workload::Workload> build_workload(const WorkloadFlags& f, double rate, const loadgen::PromptText& count) {
  if (f.min_turns > f.max_turns) {
    return invalid_argument("--min-turns: must be <= --max-turns {}; got {}", f.max_turns, f.min_turns);
  }
  PPD_ASSIGN_OR_RETURN(workload::Workload w, shapes(f, count));
  workload::fit_context(f.max_context_tokens, &w);
  if (w.conversations.empty()) return invalid_argument("--max-context: {} leaves no conversation", f.max_context_tokens);
  if (rate > 0) {
    PPD_RETURN_IF_ERROR(workload::assign_poisson_arrivals(rate, f.seed, &w));
  } else if (!is_trace_with_times(f.kind)) {
    return invalid_argument("--rate: required for the {} workload (conversations per second, > 0)", f.kind);
  }
  return w;
}

std::string describe_workload(const WorkloadFlags& f, const workload::Workload& w) {
  return fmt::format("{} workload, scale {:g}, seed {}, {} conversations, {} turns", f.kind, f.scale, f.seed,
                     w.conversations.size(), workload::num_turns(w));
}

}  // namespace ppd::cli
