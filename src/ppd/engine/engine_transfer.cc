// The engine's side of KV transfer: exporting and importing single cached blocks, the
// decode node's import of a remote prompt (begin_import / finish_import), and the prefill
// node's pinned requests whose pinned blocks a decode node pulls.
#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "ppd/engine/engine.h"
#include "ppd/engine/engine_state.h"
#include "ppd/kv/block_table.h"

namespace ppd::engine {

std::optional<std::span<const uint8_t>> Engine::export_block(BlockHash hash) const {
  const std::optional<BlockId> block = state_->kv_cache->lookup(hash);
  if (!block) return std::nullopt;
  return state_->storage->export_block(*block);
}

Status Engine::import_block(BlockHash hash, std::span<const uint8_t> bytes) {
  State& s = *state_;
  if (bytes.size() != s.storage->block_bytes()) {
    return invalid_argument("kv block: must be {} bytes; got {}", s.storage->block_bytes(), bytes.size());
  }
  if (!s.options.enable_prefix_cache) return failed_precondition("kv block import: the prefix cache is disabled");
  if (s.kv_cache->lookup(hash)) return Status::Ok();
  PPD_ASSIGN_OR_RETURN(const BlockId block, s.kv_cache->allocate());
  PPD_RETURN_IF_ERROR(s.storage->import_block(block, bytes));
  s.kv_cache->register_block(block, hash);
  s.kv_cache->release(block);
  return Status::Ok();
}

Result<ImportTarget> Engine::begin_import(ImportSpec spec) {
  State& s = *state_;
  if (spec.first_token < 0 || spec.first_token >= s.config.vocab_size) {
    return invalid_argument("first_token: must be in [0, {}); got {}", s.config.vocab_size, spec.first_token);
  }
  PPD_ASSIGN_OR_RETURN(std::unique_ptr<sched::Sequence> seq, make_sequence(s, std::move(spec.request)));
  sched::Sequence* raw = seq.get();
  PPD_ASSIGN_OR_RETURN(const int num_local, s.scheduler->add_importing(std::move(seq), spec.mode));
  s.pending_first_tokens[raw->id()] = spec.first_token;
  ImportTarget target{.id = raw->id(),
                      .num_local_blocks = num_local,
                      .num_prompt_blocks = kv::num_blocks_for(raw->num_prompt_tokens(), s.options.block_size)};
  for (int i = num_local; i < target.num_prompt_blocks; ++i) {
    target.dest.push_back(s.storage->block_memory(raw->block_table()[i]));
  }
  spdlog::debug("import begin id={} prompt_tokens={} local_blocks={} pulled_blocks={}", raw->id().value,
                raw->num_prompt_tokens(), num_local, target.dest.size());
  return target;
}

Result<RequestOutput> Engine::finish_import(RequestId id) {
  State& s = *state_;
  auto it = s.pending_first_tokens.find(id);
  const sched::Sequence* seq = s.scheduler->find(id);
  if (it == s.pending_first_tokens.end() || seq == nullptr || seq->status() != sched::SequenceStatus::kImporting) {
    s.pending_first_tokens.erase(id);
    return not_found("kv import: request {} is not importing", id.value);
  }
  const TokenId first_token = it->second;
  s.pending_first_tokens.erase(it);
  const sched::FinishReason reason = s.scheduler->finish_import(id, first_token);
  RequestOutput out{.id = id,
                    .token = first_token,
                    .finish_reason = reason,
                    .num_prompt_tokens = seq->num_prompt_tokens(),
                    .num_cached_tokens = seq->num_cached_prompt_tokens(),
                    .num_output_tokens = 1};
  if (reason != sched::FinishReason::kNone) s.scheduler->take_finished();  // retired on its first token
  return out;
}

std::optional<PinnedRequest> Engine::pinned(RequestId id) const { return pinned_request(*state_, id); }

std::optional<PinnedRequest> pinned_request(const Engine::State& s, RequestId id) {
  const sched::Sequence* seq = s.scheduler->find(id);
  if (seq == nullptr || seq->status() != sched::SequenceStatus::kPinned) return std::nullopt;
  PinnedRequest h{.id = id,
                  .num_prompt_tokens = seq->num_prompt_tokens(),
                  .first_token = seq->output_tokens()[0],
                  .sampling_seed = seq->sampling_seed()};
  const int num_full = seq->num_prompt_tokens() / s.options.block_size;
  const auto& hashes = seq->block_hashes();
  h.block_hashes.assign(hashes.begin(), hashes.begin() + std::min<ptrdiff_t>(num_full, std::ssize(hashes)));
  const int num_blocks = kv::num_blocks_for(seq->num_prompt_tokens(), s.options.block_size);
  for (int i = 0; i < num_blocks; ++i) {
    h.block_ids.push_back(seq->block_table()[i]);
    h.blocks.push_back(s.storage->export_block(seq->block_table()[i]));
  }
  return h;
}

bool Engine::unpin(RequestId id) { return state_->scheduler->unpin(id); }
std::vector<RequestId> Engine::pinned_ids() const { return state_->scheduler->pinned_ids(); }

}  // namespace ppd::engine
