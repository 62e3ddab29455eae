#include "ppd/sim/sim_node.h"

#include "ppd/common/check.h"
#include "ppd/common/splitmix.h"

namespace ppd::sim {

TokenId simulated_token(RequestId request, int position, int vocab_size) {
  // One mix per token: request r's stream starts at r × kGoldenGamma, and those starts lie
  // far more than any position apart (a Weyl sequence), so no two requests share tokens.
  const uint64_t h = splitmix64_mix(request.value * kGoldenGamma + static_cast<uint64_t>(position));
  return static_cast<TokenId>(uniform_below(h, static_cast<uint32_t>(vocab_size)));  // once per token: no division
}

void step_shape(const sched::SchedulerOutput& output, StepShape* shape) {
  shape->decode_context_tokens.clear();
  shape->prefill_chunks.clear();
  for (size_t i = 0; i < output.chunks.size(); ++i) {
    const sched::ScheduledChunk& c = output.chunks[i];
    if (static_cast<int>(i) < output.num_decode_tokens) {
      shape->decode_context_tokens.push_back(c.first_position + 1);  // positions 0..first_position
    } else {
      shape->prefill_chunks.push_back(
          {.num_tokens = c.num_tokens, .num_context_tokens = c.first_position, .samples = c.samples()});
    }
  }
}

SimNode::SimNode(const SimNodeOptions& options, const StepCostModel* cost)
    : options_(options), cost_(cost), kv_cache_(options.kv_cache), scheduler_(options.scheduler, &kv_cache_) {}

namespace {

std::unique_ptr<sched::Sequence> make_sequence(RequestId id, std::vector<TokenId> prompt, int max_tokens,
                                               sched::BlocksOnFinish on_finish, std::span<const BlockHash> hashes,
                                               int block_size) {
  PPD_CHECK(hashes.size() <= prompt.size() / static_cast<size_t>(block_size));
  request::SamplingParams params;
  params.temperature = 0;
  params.ignore_eos = true;
  params.max_tokens = max_tokens;
  auto seq = std::make_unique<sched::Sequence>(sched::SequenceOptions{.id = id,
                                                                      .prompt = std::move(prompt),
                                                                      .params = params,
                                                                      .max_tokens = max_tokens,
                                                                      .blocks_on_finish = on_finish});
  seq->block_hashes().assign(hashes.begin(), hashes.end());
  return seq;
}

}  // namespace

Status SimNode::check_request(RequestId id, size_t num_prompt_tokens, int max_tokens) const {
  if (num_prompt_tokens == 0) return invalid_argument("prompt: must not be empty; request {}", id.value);
  if (max_tokens < 1) return invalid_argument("max_tokens: must be >= 1; got {}", max_tokens);
  const int total = static_cast<int>(num_prompt_tokens) + max_tokens;
  if (!scheduler_.fits_cache(total)) {
    return invalid_argument("request {}: {} tokens never fit the KV cache of {} blocks", id.value, total,
                            kv_cache_.num_blocks());
  }
  return Status::Ok();
}

Status SimNode::add_request(RequestId id, std::vector<TokenId> prompt, int max_tokens, sched::BlocksOnFinish on_finish,
                            std::span<const BlockHash> prompt_hashes) {
  PPD_RETURN_IF_ERROR(check_request(id, prompt.size(), max_tokens));
  scheduler_.add(
      make_sequence(id, std::move(prompt), max_tokens, on_finish, prompt_hashes, options_.kv_cache.block_size));
  return Status::Ok();
}

Result<int> SimNode::add_importing(RequestId id, std::vector<TokenId> prompt, int max_tokens, sched::ImportMode mode,
                                   std::span<const BlockHash> prompt_hashes) {
  PPD_RETURN_IF_ERROR(check_request(id, prompt.size(), max_tokens));
  return scheduler_.add_importing(make_sequence(id, std::move(prompt), max_tokens, sched::BlocksOnFinish::kRelease,
                                                prompt_hashes, options_.kv_cache.block_size),
                                  mode);
}

std::optional<int64_t> SimNode::begin_step() {
  PPD_CHECK(!in_step_);
  scheduler_.schedule(&pending_);
  if (pending_.empty()) return std::nullopt;
  step_shape(pending_, &last_shape_);
  in_step_ = true;
  return cost_->step_time_ns(last_shape_);
}

const std::vector<sched::SequenceUpdate>& SimNode::end_step() {
  PPD_CHECK(in_step_);
  in_step_ = false;
  sampled_.clear();
  for (const sched::ScheduledChunk& c : pending_.chunks) {
    if (c.samples())
      sampled_.push_back(simulated_token(c.sequence->id(), c.sequence->num_tokens(), options_.vocab_size));
  }
  scheduler_.update(pending_, sampled_, &updates_);
  return updates_;
}

}  // namespace ppd::sim
