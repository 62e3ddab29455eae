// The PPD paper's synthetic workload: two-turn conversations whose turn 1 builds a context
// (small or large) and whose turn 2 is one of nine input/output shapes. Each conversation
// draws its (context, turn-2 type) cell uniformly from a seeded stream, so the mix is random
// but reproducible, and conversation i depends only on the options and i. Arrivals are all 0;
// assign_poisson_arrivals() sets them. Pure functions; the tables are immutable.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/status.h"
#include "ppd/workload/workload.h"

namespace ppd::workload {

struct Turn2Type {
  std::string_view name;
  int64_t input_tokens;
  int64_t output_tokens;
};

struct ContextType {
  std::string_view name;
  int64_t input_tokens;
  int64_t output_tokens;
};

// small 128->128, large 1024->1024.
std::span<const ContextType> paper_contexts();
// tiny 16->32, short_gen 32->256, long_gen 32->512, very_long_gen 64->1024, small_bal 64->64,
// mid_bal 128->128, mid_paste 256->64, big_paste 512->64, huge_paste 1024->32.
std::span<const Turn2Type> paper_turn2_types();

struct PaperOptions {
  std::vector<std::string> contexts;     // names from paper_contexts(), each once; empty: all
  std::vector<std::string> turn2_types;  // names from paper_turn2_types(), each once; empty: all nine
  double scale = 1.0;                    // every length multiplied and rounded, at least 1; (0, 16]
  int num_conversations = 90;            // >= 1
  double mean_think_time_s = 0;          // exponential think time before turn 2, seconds; 0: none
  uint64_t seed = 0;
};

// Returns num_conversations two-turn conversations: turn 1 = the context type (turn label
// e.g. "large"), turn 2 = the turn-2 type (label e.g. "huge_paste"), conversation label
// "large/huge_paste", name "paper". A bad option -> INVALID_ARGUMENT, e.g.
// `turn2_types: unknown "foo"; supported: tiny, short_gen, ...`.
Result<Workload> make_paper_workload(const PaperOptions& o);

}  // namespace ppd::workload
