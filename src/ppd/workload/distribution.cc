// The distribution workload: option checks and the per-conversation seeded draws.
#include "ppd/workload/distribution.h"

#include "ppd/workload/option_checks.h"
#include "ppd/workload/rng.h"

namespace ppd::workload {
namespace {

constexpr uint64_t kLengthStream = 0x4c454e47;  // "LENG"

Status check_range(std::string_view field, const LengthRange& r, int64_t min_allowed) {
  if (r.min < min_allowed) return invalid_argument("{}.min: must be >= {}; got {}", field, min_allowed, r.min);
  if (r.max < r.min) return invalid_argument("{}.max: must be >= {}.min ({}); got {}", field, field, r.min, r.max);
  return Status::Ok();
}

Status check_options(const DistributionOptions& o) {
  PPD_RETURN_IF_ERROR(internal::check_at_least("num_conversations", o.num_conversations, 1));
  PPD_RETURN_IF_ERROR(internal::check_turn_range(o.min_turns, o.max_turns));
  PPD_RETURN_IF_ERROR(check_range("system_tokens", o.system_tokens, 0));
  PPD_RETURN_IF_ERROR(check_range("first_user_tokens", o.first_user_tokens, 1));
  PPD_RETURN_IF_ERROR(check_range("user_tokens", o.user_tokens, 1));
  PPD_RETURN_IF_ERROR(check_range("output_tokens", o.output_tokens, 1));
  PPD_RETURN_IF_ERROR(internal::check_non_negative("mean_think_time_s", o.mean_think_time_s));
  return internal::check_length_scale("scale", o.scale);
}

int64_t draw(Rng& rng, const LengthRange& r, double scale) {
  return scale_tokens(rng.uniform_int(r.min, r.max), scale);
}

Conversation make_conversation(const DistributionOptions& o, int64_t id) {
  Rng lengths = Rng::for_stream(o.seed, kLengthStream, static_cast<uint64_t>(id));
  Rng think = Rng::for_stream(o.seed, kThinkTimeStream, static_cast<uint64_t>(id));
  Conversation c;
  c.id = id;
  const int64_t system_tokens = lengths.uniform_int(o.system_tokens.min, o.system_tokens.max);
  c.system_tokens = system_tokens == 0 ? 0 : scale_tokens(system_tokens, o.scale);
  const int64_t n = lengths.uniform_int(o.min_turns, o.max_turns);
  for (int64_t i = 0; i < n; ++i) {
    Turn t;
    t.user_tokens = draw(lengths, i == 0 ? o.first_user_tokens : o.user_tokens, o.scale);
    t.output_tokens = draw(lengths, o.output_tokens, o.scale);
    if (i > 0 && o.mean_think_time_s > 0) t.think_time_s = think.exponential(1.0 / o.mean_think_time_s);
    c.turns.push_back(std::move(t));
  }
  return c;
}

}  // namespace

Result<Workload> make_distribution_workload(const DistributionOptions& o) {
  PPD_RETURN_IF_ERROR(check_options(o));
  Workload w{.name = "distribution", .conversations = {}};
  w.conversations.reserve(static_cast<size_t>(o.num_conversations));
  for (int i = 0; i < o.num_conversations; ++i) w.conversations.push_back(make_conversation(o, i));
  return w;
}

}  // namespace ppd::workload
