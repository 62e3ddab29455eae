#include "ppd/sched/sequence.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "ppd/common/check.h"

namespace ppd::sched {

namespace {

// Whether any token can end a request with these options.
bool has_stop_tokens(const SequenceOptions& o) {
  return !o.params.stop_token_ids.empty() || (!o.params.ignore_eos && !o.eos_token_ids.empty());
}

}  // namespace

Sequence::Sequence(SequenceOptions options)
    : id_(options.id),
      num_prompt_tokens_(static_cast<int>(options.prompt.size())),
      max_tokens_(options.max_tokens),
      stop_check_from_(has_stop_tokens(options) ? options.params.min_tokens : std::numeric_limits<int>::max()),
      options_(std::move(options)) {
  // Room for every output up front: appends never reallocate. A prompt that has the room
  // already (see SequenceOptions::prompt) becomes the token list without a copy.
  const size_t room = options_.prompt.size() + static_cast<size_t>(std::max(options_.max_tokens, 0));
  if (options_.prompt.capacity() >= room) {
    tokens_ = std::exchange(options_.prompt, {});
  } else {
    tokens_.reserve(room);
    tokens_.assign(options_.prompt.begin(), options_.prompt.end());
    options_.prompt = {};
  }
}

bool Sequence::is_stop_token(TokenId token) const {
  const auto& stops = options_.params.stop_token_ids;
  if (std::find(stops.begin(), stops.end(), token) != stops.end()) return true;
  if (options_.params.ignore_eos) return false;
  const auto& eos = options_.eos_token_ids;
  return std::find(eos.begin(), eos.end(), token) != eos.end();
}

void Sequence::set_running(int num_prefix_tokens) {
  PPD_CHECK(status_ == SequenceStatus::kWaiting && num_computed_tokens_ == 0);
  status_ = SequenceStatus::kRunning;
  num_computed_tokens_ = num_prefix_tokens;
  if (num_cached_prompt_tokens_ < 0) num_cached_prompt_tokens_ = num_prefix_tokens;
}

void Sequence::set_importing(int num_local_tokens) {
  PPD_CHECK(status_ == SequenceStatus::kWaiting && num_computed_tokens_ == 0);
  status_ = SequenceStatus::kImporting;
  num_cached_prompt_tokens_ = num_local_tokens;
}

void Sequence::set_imported() {
  PPD_CHECK(status_ == SequenceStatus::kImporting);
  status_ = SequenceStatus::kRunning;
  num_computed_tokens_ = num_prompt_tokens_;
}

void Sequence::reset_for_recompute() {
  PPD_CHECK(block_table_.empty());
  status_ = SequenceStatus::kWaiting;
  num_computed_tokens_ = 0;
  num_registered_blocks_ = 0;
  ++num_preemptions_;
}

void Sequence::finish(FinishReason reason) {
  status_ = SequenceStatus::kFinished;
  finish_reason_ = reason;
}

}  // namespace ppd::sched
