#include "ppd/experiment/workload_spec.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "ppd/workload/arrivals.h"
#include "ppd/workload/distribution.h"
#include "ppd/workload/sharegpt.h"
#include "ppd/workload/synthetic.h"
#include "ppd/workload/traces.h"

namespace ppd::experiment {
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
  workload::PaperOptions o{.contexts = f.paper_contexts,
                           .turn2_types = f.paper_types,
                           .scale = f.scale,
                           .mean_think_time_s = f.think_time_s,
                           .seed = f.seed};
  if (f.num_conversations > 0) o.num_conversations = f.num_conversations;
  return workload::make_paper_workload(o);
}

Result<workload::Workload> distribution(const WorkloadFlags& f) {
  workload::DistributionOptions o{.min_turns = f.min_turns,
                                  .max_turns = f.max_turns,
                                  .mean_think_time_s = f.think_time_s,
                                  .scale = f.scale,
                                  .seed = f.seed};
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
    return workload::read_sharegpt(path, o,
                                   [&count](std::string_view text) { return count.count_tokens(std::string(text)); });
  }
  const workload::TraceOptions o{.length_scale = f.scale,
                                 .time_scale = f.time_scale,
                                 .max_conversations = f.num_conversations,
                                 .min_turns = f.min_turns,
                                 .max_turns = f.max_turns,
                                 .seed = f.seed};
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

stats::Slo to_slo(const SloFlags& f) {
  return stats::Slo{.ttft_ms = f.ttft_ms, .tpot_ms = f.tpot_ms, .e2e_ms = f.e2e_ms};
}

Result<workload::Workload> build_workload(const WorkloadFlags& f, double rate, const loadgen::PromptText& count) {
  if (f.min_turns > f.max_turns) {
    return invalid_argument("--min-turns: must be <= --max-turns {}; got {}", f.max_turns, f.min_turns);
  }
  PPD_ASSIGN_OR_RETURN(workload::Workload w, shapes(f, count));
  workload::fit_context(f.max_context_tokens, &w);
  if (w.conversations.empty())
    return invalid_argument("--max-context: {} leaves no conversation", f.max_context_tokens);
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

}  // namespace ppd::experiment
