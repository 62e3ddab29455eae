#include "ppd/sched/sequence.h"

#include <algorithm>
#include <utility>

#include "ppd/common/check.h"

namespace ppd::sched {

Sequence::Sequence(SequenceOptions options)
    : options_(std::move(options)),
      num_prompt_tokens_(static_cast<int>(options_.prompt.size())) {
  // Room for every output up front: appends never reallocate.
  tokens_.reserve(options_.prompt.size() + static_cast<size_t>(std::max(options_.max_tokens, 0)));
  tokens_.assign(options_.prompt.begin(), options_.prompt.end());
  options_.prompt.clear();
  options_.prompt.shrink_to_fit();
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

FinishReason Sequence::append_token(TokenId token) {
  PPD_CHECK(num_pending_tokens() == 0);
  const bool may_stop = stop_tokens_allowed();
  tokens_.push_back(token);
  if (may_stop && is_stop_token(token)) return FinishReason::kStop;
  if (num_output_tokens() >= options_.max_tokens) return FinishReason::kLength;
  return FinishReason::kNone;
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
