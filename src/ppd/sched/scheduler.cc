#include "ppd/sched/scheduler.h"

#include <algorithm>
#include <utility>

#include "ppd/common/check.h"
#include "ppd/kv/block_hash.h"

namespace ppd::sched {

Status validate_scheduler_options(const SchedulerOptions& o) {
  if (o.max_num_batched_tokens < 1) {
    return invalid_argument("max_num_batched_tokens: must be >= 1; got {}", o.max_num_batched_tokens);
  }
  if (o.max_prefill_tokens < 1)
    return invalid_argument("max_prefill_tokens: must be >= 1; got {}", o.max_prefill_tokens);
  if (o.max_num_running < 1) return invalid_argument("max_num_running: must be >= 1; got {}", o.max_num_running);
  return Status::Ok();
}

Scheduler::Scheduler(const SchedulerOptions& options, kv::KvCacheManager* kv_cache)
    : options_(options), kv_cache_(kv_cache) {
  PPD_CHECK(validate_scheduler_options(options).ok());
}

bool Scheduler::fits_cache(int max_total_tokens) const {
  return kv::num_blocks_for(max_total_tokens, kv_cache_->block_size()) <= kv_cache_->num_blocks();
}

void Scheduler::add(std::unique_ptr<Sequence> sequence) {
  PPD_CHECK(!sequences_.contains(sequence->id()));
  // The prefix it will likely find: load reports count only the rest as prefill to come.
  const int block_size = kv_cache_->block_size();
  kv::extend_block_hashes(options_.model_identity, sequence->tokens(), block_size, &sequence->block_hashes());
  const int max_hit = (sequence->num_tokens() - 1) / block_size;
  sequence->set_queued_cached_tokens(std::min(kv_cache_->match_prefix(sequence->block_hashes()), max_hit) * block_size);
  waiting_.push_back(sequence.get());
  sequences_.emplace(sequence->id(), std::move(sequence));
}

const Sequence* Scheduler::find(RequestId id) const {
  auto it = sequences_.find(id);
  return it == sequences_.end() ? nullptr : it->second.get();
}

std::unique_ptr<Sequence> Scheduler::abort(RequestId id) {
  auto it = sequences_.find(id);
  if (it == sequences_.end()) return nullptr;
  Sequence* seq = it->second.get();
  if (seq->status() == SequenceStatus::kWaiting) {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), seq));
  } else {
    if (seq->status() == SequenceStatus::kRunning) running_.erase(std::find(running_.begin(), running_.end(), seq));
    kv_cache_->release_all(&seq->block_table());
  }
  seq->finish(FinishReason::kAbort);
  std::unique_ptr<Sequence> owned = std::move(it->second);
  sequences_.erase(it);
  return owned;
}

Result<int> Scheduler::add_importing(std::unique_ptr<Sequence> sequence, ImportMode mode) {
  PPD_CHECK(!sequences_.contains(sequence->id()));
  Sequence* seq = sequence.get();
  const int block_size = kv_cache_->block_size();
  kv::extend_block_hashes(options_.model_identity, seq->tokens(), block_size, &seq->block_hashes());
  const int hit = mode == ImportMode::kDelta ? kv_cache_->match_prefix(seq->block_hashes()) : 0;
  const int new_blocks = kv::num_blocks_for(seq->num_tokens(), block_size) - hit;
  int reviving = 0;  // matched blocks that leave the evictable pool once referenced
  for (int i = 0; i < hit; ++i) reviving += kv_cache_->ref_count(*kv_cache_->lookup(seq->block_hashes()[i])) == 0;
  if (kv_cache_->num_allocatable_blocks() - reviving < new_blocks) {
    return resource_exhausted("kv import: {} blocks needed, {} allocatable", new_blocks,
                              kv_cache_->num_allocatable_blocks() - reviving);
  }
  kv_cache_->acquire_prefix(seq->block_hashes(), hit, &seq->block_table());
  for (int i = 0; i < new_blocks; ++i) seq->block_table().push_back(*kv_cache_->allocate());
  seq->set_importing(hit * block_size);
  seq->set_registered_blocks(hit);
  sequences_.emplace(seq->id(), std::move(sequence));
  return hit;
}

FinishReason Scheduler::finish_import(RequestId id, TokenId first_token) {
  auto it = sequences_.find(id);
  PPD_CHECK(it != sequences_.end() && it->second->status() == SequenceStatus::kImporting);
  Sequence* seq = it->second.get();
  seq->set_imported();
  register_full_blocks(seq);
  running_.push_back(seq);
  const FinishReason reason = seq->append_token(first_token);
  if (reason != FinishReason::kNone) retire(seq, reason);
  return reason;
}

bool Scheduler::unpin(RequestId id) {
  auto it = sequences_.find(id);
  if (it == sequences_.end() || it->second->status() != SequenceStatus::kPinned) return false;
  kv_cache_->release_all(&it->second->block_table());
  sequences_.erase(it);
  return true;
}

std::vector<RequestId> Scheduler::pinned_ids() const {
  std::vector<RequestId> ids;
  for (const auto& [id, seq] : sequences_) {
    if (seq->status() == SequenceStatus::kPinned) ids.push_back(id);
  }
  return ids;
}

void SchedulerOutput::clear() {
  chunks.clear();
  num_decode_tokens = num_prefill_tokens = 0;
  preempted.clear();
}

SchedulerOutput Scheduler::schedule() {
  SchedulerOutput out;
  schedule(&out);
  return out;
}

void Scheduler::schedule(SchedulerOutput* out) {
  out->clear();
  int budget = options_.max_num_batched_tokens;
  int prefill_budget = options_.max_prefill_tokens;
  // Most steps of a decode node have no running prefill: then its pass over running_ is skipped.
  if (schedule_decodes(out, &budget)) schedule_running_prefills(out, &budget, &prefill_budget);
  admit_waiting(out, &budget, &prefill_budget);
}

bool Scheduler::schedule_decodes(SchedulerOutput* out, int* budget) {
  bool prefills = false;
  size_t i = 0;
  while (i < running_.size() && *budget > 0) {
    Sequence* seq = running_[i];
    if (seq->num_pending_tokens() != 1) {
      prefills = prefills || seq->num_pending_tokens() > 1;
      ++i;
      continue;
    }
    if (!reserve_blocks(seq, seq->num_computed_tokens() + 1, i + 1, out)) {
      // Nobody of lower priority is left to preempt: this request yields its own blocks.
      PPD_CHECK(preempt_one(i, out));
      continue;
    }
    out->chunks.push_back({seq, seq->num_computed_tokens(), 1});
    ++out->num_decode_tokens;
    --*budget;
    ++i;
  }
  // Preemption removed only requests after the one at hand, not yet passed; those left
  // unpassed when the budget ran out get no chunk from schedule_running_prefills either.
  return prefills;
}

void Scheduler::schedule_running_prefills(SchedulerOutput* out, int* budget, int* prefill_budget) {
  for (size_t i = 0; i < running_.size(); ++i) {
    Sequence* seq = running_[i];
    if (seq->num_pending_tokens() <= 1) continue;
    const int n = std::min({seq->num_pending_tokens(), *budget, *prefill_budget});
    if (n <= 0) return;
    if (!reserve_blocks(seq, seq->num_computed_tokens() + n, i + 1, out)) return;
    out->chunks.push_back({seq, seq->num_computed_tokens(), n});
    out->num_prefill_tokens += n;
    *budget -= n;
    *prefill_budget -= n;
  }
}

void Scheduler::admit_waiting(SchedulerOutput* out, int* budget, int* prefill_budget) {
  const int block_size = kv_cache_->block_size();
  while (!waiting_.empty() && static_cast<int>(running_.size()) < options_.max_num_running && *budget > 0 &&
         *prefill_budget > 0) {
    Sequence* seq = waiting_.front();
    std::vector<BlockHash>& hashes = seq->block_hashes();
    kv::extend_block_hashes(options_.model_identity, seq->tokens(), block_size, &hashes);
    // At least the last token is always computed: its logits give the next token.
    const int max_hit = (seq->num_tokens() - 1) / block_size;
    const int hit = std::min(kv_cache_->match_prefix(hashes), max_hit);
    const int prefix_tokens = hit * block_size;
    const int n = std::min({seq->num_tokens() - prefix_tokens, *budget, *prefill_budget});
    const int new_blocks = kv::num_blocks_for(prefix_tokens + n, block_size) - hit;
    int reviving = 0;  // matched blocks that leave the evictable pool once referenced
    for (int i = 0; i < hit; ++i) reviving += kv_cache_->ref_count(*kv_cache_->lookup(hashes[i])) == 0;
    if (kv_cache_->num_allocatable_blocks() - reviving < new_blocks) return;

    kv_cache_->acquire_prefix(hashes, hit, &seq->block_table());
    for (int i = 0; i < new_blocks; ++i) seq->block_table().push_back(*kv_cache_->allocate());
    seq->set_running(prefix_tokens);
    seq->set_registered_blocks(hit);
    waiting_.pop_front();
    running_.push_back(seq);
    out->chunks.push_back({seq, prefix_tokens, n});
    out->num_prefill_tokens += n;
    *budget -= n;
    *prefill_budget -= n;
  }
}

bool Scheduler::reserve_blocks(Sequence* seq, int num_tokens, size_t min_victim_index, SchedulerOutput* out) {
  kv::BlockTable& table = seq->block_table();
  const int block_size = kv_cache_->block_size();
  while (table.num_blocks() * block_size < num_tokens) {  // fewer than num_blocks_for(num_tokens) blocks
    Result<BlockId> block = kv_cache_->allocate();
    if (block.ok()) {
      table.push_back(*block);
    } else if (!preempt_one(min_victim_index, out)) {
      return false;
    }
  }
  return true;
}

bool Scheduler::preempt_one(size_t min_victim_index, SchedulerOutput* out) {
  for (size_t j = running_.size(); j-- > min_victim_index;) {
    Sequence* victim = running_[j];
    const bool scheduled = std::any_of(out->chunks.begin(), out->chunks.end(),
                                       [&](const ScheduledChunk& c) { return c.sequence == victim; });
    if (scheduled) continue;
    running_.erase(running_.begin() + static_cast<ptrdiff_t>(j));
    kv_cache_->release_all(&victim->block_table());
    victim->reset_for_recompute();
    waiting_.push_front(victim);
    out->preempted.push_back(victim->id());
    return true;
  }
  return false;
}

std::vector<SequenceUpdate> Scheduler::update(const SchedulerOutput& output, std::span<const TokenId> sampled) {
  std::vector<SequenceUpdate> updates;
  update(output, sampled, &updates);
  return updates;
}

void Scheduler::update(const SchedulerOutput& output, std::span<const TokenId> sampled,
                       std::vector<SequenceUpdate>* updates) {
  updates->clear();
  size_t next_sample = 0;
  for (const ScheduledChunk& chunk : output.chunks) {
    Sequence* seq = chunk.sequence;
    const bool samples = chunk.samples();
    seq->add_computed(chunk.num_tokens);
    register_full_blocks(seq);
    if (!samples) continue;
    PPD_CHECK(next_sample < sampled.size());
    const TokenId token = sampled[next_sample++];
    const FinishReason reason = token == kInvalidToken ? FinishReason::kError : seq->append_token(token);
    updates->push_back({seq->id(), token, reason, seq->num_output_tokens()});
    if (reason != FinishReason::kNone) retire(seq, reason);
  }
  PPD_CHECK(next_sample == sampled.size());
}

void Scheduler::register_full_blocks(Sequence* seq) {
  const int block_size = kv_cache_->block_size();
  // No new full block (most decode steps): checked without a division.
  if (seq->num_computed_tokens() < (seq->num_registered_blocks() + 1) * block_size) return;
  const int num_full = seq->num_computed_tokens() / block_size;
  std::vector<BlockHash>& hashes = seq->block_hashes();
  kv::extend_block_hashes(options_.model_identity, seq->tokens().first(static_cast<size_t>(seq->num_computed_tokens())),
                          block_size, &hashes);
  const size_t first = static_cast<size_t>(seq->num_registered_blocks());
  const size_t count = static_cast<size_t>(num_full) - first;
  kv_cache_->register_blocks(seq->block_table().raw().subspan(first, count),
                             std::span<const BlockHash>(hashes).subspan(first, count));
  seq->set_registered_blocks(num_full);
}

void Scheduler::retire(Sequence* seq, FinishReason reason) {
  running_.erase(std::find(running_.begin(), running_.end(), seq));
  if (seq->blocks_on_finish() == BlocksOnFinish::kPin && reason != FinishReason::kError) {
    seq->set_pinned();  // stays in sequences_ with its blocks until unpin()
    return;
  }
  kv_cache_->release_all(&seq->block_table());
  seq->finish(reason);
  auto it = sequences_.find(seq->id());
  finished_.push_back(std::move(it->second));
  sequences_.erase(it);
}

int64_t Scheduler::num_pending_prefill_tokens() const {
  int64_t n = 0;
  for (const Sequence* seq : waiting_) n += seq->num_tokens() - seq->num_queued_cached_tokens();
  for (const Sequence* seq : running_) n += seq->num_pending_tokens() > 1 ? seq->num_pending_tokens() : 0;
  return n;
}

int Scheduler::count_with_status(SequenceStatus status) const {
  int n = 0;
  for (const auto& [id, seq] : sequences_) n += seq->status() == status;
  return n;
}

std::vector<std::unique_ptr<Sequence>> Scheduler::take_finished() { return std::exchange(finished_, {}); }

Status Scheduler::check_invariants() const {
  PPD_RETURN_IF_ERROR(kv_cache_->check_invariants());
  const int num_importing = count_with_status(SequenceStatus::kImporting);
  const int num_pinned = count_with_status(SequenceStatus::kPinned);
  if (sequences_.size() != running_.size() + waiting_.size() + num_importing + num_pinned) {
    return internal_error("scheduler: {} requests but {} running + {} waiting + {} importing + {} pinned",
                          sequences_.size(), running_.size(), waiting_.size(), num_importing, num_pinned);
  }
  std::vector<int> holders(static_cast<size_t>(kv_cache_->num_blocks()), 0);
  for (const auto& [id, seq] : sequences_) {
    if (seq->status() != SequenceStatus::kImporting && seq->status() != SequenceStatus::kPinned) continue;
    if (seq->block_table().num_blocks() < kv::num_blocks_for(seq->num_prompt_tokens(), kv_cache_->block_size())) {
      return internal_error("scheduler: importing or pinned request {} lacks blocks for its prompt", id.value);
    }
    for (int32_t b : seq->block_table().raw()) ++holders[static_cast<size_t>(b)];
  }
  const int block_size = kv_cache_->block_size();
  for (const Sequence* seq : running_) {
    const int blocks = seq->block_table().num_blocks();
    if (seq->status() != SequenceStatus::kRunning || seq->num_pending_tokens() < 1 ||
        blocks < kv::num_blocks_for(seq->num_computed_tokens(), block_size) ||
        blocks > kv::num_blocks_for(seq->num_tokens(), block_size)) {
      return internal_error("scheduler: running request {} is inconsistent", seq->id().value);
    }
    for (int32_t b : seq->block_table().raw()) ++holders[static_cast<size_t>(b)];
  }
  for (const Sequence* seq : waiting_) {
    if (seq->status() != SequenceStatus::kWaiting || !seq->block_table().empty() || seq->num_computed_tokens() != 0) {
      return internal_error("scheduler: waiting request {} holds state", seq->id().value);
    }
  }
  for (int b = 0; b < kv_cache_->num_blocks(); ++b) {
    if (holders[static_cast<size_t>(b)] != kv_cache_->ref_count(BlockId{b})) {
      return internal_error("scheduler: block {} has {} references but {} block tables hold it", b,
                            kv_cache_->ref_count(BlockId{b}), holders[static_cast<size_t>(b)]);
    }
  }
  return Status::Ok();
}

}  // namespace ppd::sched
