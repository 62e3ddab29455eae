// Workload helpers: prompt lengths, validation and context fitting.
#include "ppd/workload/workload.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ppd::workload {
namespace {

Status check_turn(const Turn& t, size_t index) {
  const auto fail = [&](std::string_view field, std::string_view rule, auto value) {
    return invalid_argument("turn {}: {}: must be {}; got {}", index, field, rule, value);
  };
  if (t.user_tokens < 1) return fail("user_tokens", ">= 1", t.user_tokens);
  if (t.output_tokens < 1) return fail("output_tokens", ">= 1", t.output_tokens);
  if (!(t.think_time_s >= 0) || !std::isfinite(t.think_time_s)) return fail("think_time_s", ">= 0", t.think_time_s);
  if (!std::isfinite(t.offset_s)) return fail("offset_s", "finite", t.offset_s);
  return Status::Ok();
}

// Checks one conversation's own fields; `previous` is the one before it, or null.
Status check_conversation(const Conversation& c, size_t index, const Conversation* previous) {
  if (c.id != static_cast<int64_t>(index)) {
    return invalid_argument("conversation at index {}: id: must be {}; got {}", index, index, c.id);
  }
  const auto fail = [&](std::string_view field, std::string_view rule, auto value) {
    return invalid_argument("conversation {}: {}: must be {}; got {}", c.id, field, rule, value);
  };
  if (!(c.arrival_s >= 0) || !std::isfinite(c.arrival_s)) return fail("arrival_s", ">= 0", c.arrival_s);
  if (previous != nullptr && c.arrival_s < previous->arrival_s) {
    return fail("arrival_s", fmt::format(">= conversation {}'s ({})", previous->id, previous->arrival_s), c.arrival_s);
  }
  if (c.system_tokens < 0) return fail("system_tokens", ">= 0", c.system_tokens);
  if (c.turns.empty()) return fail("turns", "non-empty", "none");
  for (size_t i = 0; i < c.turns.size(); ++i) {
    const Status s = check_turn(c.turns[i], i);
    if (!s.ok()) return s.with_context(fmt::format("conversation {}", c.id));
  }
  return Status::Ok();
}

}  // namespace

int64_t prompt_tokens_at(const Conversation& c, size_t turn_index) {
  int64_t tokens = c.system_tokens;
  for (size_t i = 0; i < turn_index; ++i) tokens += c.turns[i].user_tokens + c.turns[i].output_tokens;
  return tokens + c.turns[turn_index].user_tokens;
}

int64_t num_turns(const Workload& w) {
  int64_t n = 0;
  for (const Conversation& c : w.conversations) n += static_cast<int64_t>(c.turns.size());
  return n;
}

Status validate_workload(const Workload& w) {
  if (w.conversations.empty()) return invalid_argument("conversations: must not be empty; got 0");
  for (size_t i = 0; i < w.conversations.size(); ++i) {
    PPD_RETURN_IF_ERROR(check_conversation(w.conversations[i], i, i == 0 ? nullptr : &w.conversations[i - 1]));
  }
  return Status::Ok();
}

int64_t fit_context(int64_t max_context_tokens, Workload* w) {
  if (max_context_tokens <= 0) return 0;
  int64_t num_dropped = 0;
  std::vector<Conversation> kept;
  for (Conversation& c : w->conversations) {
    int64_t context_tokens = c.system_tokens;  // history plus the current turn, running
    size_t num_fitting = 0;
    for (; num_fitting < c.turns.size(); ++num_fitting) {
      const Turn& t = c.turns[num_fitting];
      context_tokens += t.user_tokens + t.output_tokens;
      if (context_tokens > max_context_tokens) break;
    }
    num_dropped += static_cast<int64_t>(c.turns.size() - num_fitting);
    c.turns.resize(num_fitting);
    if (c.turns.empty()) continue;
    c.id = static_cast<int64_t>(kept.size());
    kept.push_back(std::move(c));
  }
  w->conversations = std::move(kept);
  return num_dropped;
}

int64_t scale_tokens(int64_t tokens, double scale) {
  if (scale == 1.0) return std::max<int64_t>(tokens, 1);
  return std::max<int64_t>(std::llround(static_cast<double>(tokens) * scale), 1);
}

}  // namespace ppd::workload
