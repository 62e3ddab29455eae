// The paper's synthetic set: option checks, name lookup, and the seeded draw of cells.
#include "ppd/workload/synthetic.h"

#include <algorithm>
#include <array>

#include "ppd/workload/option_checks.h"
#include "ppd/workload/rng.h"

namespace ppd::workload {
namespace {

constexpr std::array<ContextType, 2> kContexts = {{{"small", 128, 128}, {"large", 1024, 1024}}};
constexpr std::array<Turn2Type, 9> kTurn2Types = {{
    {"tiny", 16, 32},
    {"short_gen", 32, 256},
    {"long_gen", 32, 512},
    {"very_long_gen", 64, 1024},
    {"small_bal", 64, 64},
    {"mid_bal", 128, 128},
    {"mid_paste", 256, 64},
    {"big_paste", 512, 64},
    {"huge_paste", 1024, 32},
}};

constexpr uint64_t kCellStream = 0x43454c4c;  // "CELL"

// The entries of `table` named in `names` (in that order), or all of `table` when empty.
template <typename T>
Result<std::vector<T>> select_named(std::string_view field, std::span<const T> table,
                                    const std::vector<std::string>& names) {
  if (names.empty()) return std::vector<T>(table.begin(), table.end());
  std::vector<T> out;
  for (const std::string& name : names) {
    const auto it = std::ranges::find(table, std::string_view(name), &T::name);
    if (it == table.end()) {
      std::string supported;
      for (const T& t : table) supported += (supported.empty() ? "" : ", ") + std::string(t.name);
      return invalid_argument("{}: unknown \"{}\"; supported: {}", field, name, supported);
    }
    if (std::ranges::count(names, name) > 1) {
      return invalid_argument("{}: must name each entry once; got \"{}\" twice or more", field, name);
    }
    out.push_back(*it);
  }
  return out;
}

Status check_options(const PaperOptions& o) {
  PPD_RETURN_IF_ERROR(internal::check_length_scale("scale", o.scale));
  PPD_RETURN_IF_ERROR(internal::check_at_least("num_conversations", o.num_conversations, 1));
  return internal::check_non_negative("mean_think_time_s", o.mean_think_time_s);
}

Turn make_turn(int64_t input_tokens, int64_t output_tokens, std::string_view label, double scale) {
  Turn t;
  t.user_tokens = scale_tokens(input_tokens, scale);
  t.output_tokens = scale_tokens(output_tokens, scale);
  t.label = std::string(label);
  return t;
}

}  // namespace

std::span<const ContextType> paper_contexts() { return kContexts; }
std::span<const Turn2Type> paper_turn2_types() { return kTurn2Types; }

Result<Workload> make_paper_workload(const PaperOptions& o) {
  PPD_RETURN_IF_ERROR(check_options(o));
  PPD_ASSIGN_OR_RETURN(const std::vector<ContextType> contexts, select_named("contexts", paper_contexts(), o.contexts));
  PPD_ASSIGN_OR_RETURN(const std::vector<Turn2Type> types,
                       select_named("turn2_types", paper_turn2_types(), o.turn2_types));
  const auto num_cells = static_cast<int64_t>(contexts.size() * types.size());
  Workload w{.name = "paper", .conversations = {}};
  for (int i = 0; i < o.num_conversations; ++i) {
    const int64_t cell = Rng::for_stream(o.seed, kCellStream, i).uniform_int(0, num_cells - 1);
    const ContextType& context = contexts[cell / types.size()];
    const Turn2Type& type = types[cell % types.size()];
    Conversation c;
    c.id = i;
    c.label = fmt::format("{}/{}", context.name, type.name);
    c.turns.push_back(make_turn(context.input_tokens, context.output_tokens, context.name, o.scale));
    c.turns.push_back(make_turn(type.input_tokens, type.output_tokens, type.name, o.scale));
    if (o.mean_think_time_s > 0) {
      c.turns[1].think_time_s = Rng::for_stream(o.seed, kThinkTimeStream, i).exponential(1.0 / o.mean_think_time_s);
    }
    w.conversations.push_back(std::move(c));
  }
  return w;
}

}  // namespace ppd::workload
