#include "ppd/sim/sim_client.h"

#include <algorithm>
#include <cmath>

#include "ppd/common/check.h"
#include "ppd/common/splitmix.h"
#include "ppd/kv/block_hash.h"
#include "ppd/workload/replay.h"

namespace ppd::sim {
namespace {

constexpr double kNsPerSecond = 1e9;

double to_s(int64_t ns) { return static_cast<double>(ns) / kNsPerSecond; }

// The message tokens of `conversation` come from a stream no answer or other conversation
// shares: token i is message_token(message_stream(conversation), i).
uint64_t message_stream(int64_t conversation) { return splitmix64_mix(~static_cast<uint64_t>(conversation)); }
TokenId message_token(uint64_t stream, size_t position, uint32_t vocab_size) {
  return static_cast<TokenId>(uniform_below(splitmix64_mix(stream + position), vocab_size));
}

}  // namespace

Status validate_client_options(const ClientOptions& o) {
  PPD_RETURN_IF_ERROR(workload::check_replay_options(o.num_warmup_conversations, o.duration_s));
  if (o.template_tokens < 0) return invalid_argument("template_tokens: must be >= 0; got {}", o.template_tokens);
  return Status::Ok();
}

SimClient::SimClient(const workload::Workload* w, const ClientOptions& options, const TokenSpace& tokens)
    : workload_(w),
      options_(options),
      tokens_(tokens),
      conversations_(w->conversations.size()),
      num_open_(static_cast<int64_t>(w->conversations.size())) {
  in_flight_.reserve(static_cast<size_t>(workload::num_turns(*w)));
  records_.reserve(static_cast<size_t>(workload::num_turns(*w)));
}

std::optional<int64_t> SimClient::due_ns(int64_t conversation, int64_t previous_end_ns) const {
  const workload::Conversation& c = workload_->conversations[static_cast<size_t>(conversation)];
  const int64_t due =
      workload::turn_due_ns(c, conversations_[static_cast<size_t>(conversation)].next_turn, previous_end_ns);
  if (workload::past_duration(options_.duration_s, to_s(due))) return std::nullopt;
  return due;
}

std::optional<int64_t> SimClient::first_send_ns(int64_t conversation) {
  const std::optional<int64_t> due = due_ns(conversation, 0);
  if (!due) close(conversation, workload_->conversations[static_cast<size_t>(conversation)].turns.size());
  return due;
}

void SimClient::append_message(int64_t conversation, int64_t num_tokens) {
  Conversation& c = conversations_[static_cast<size_t>(conversation)];
  const size_t first = c.tokens.size();
  c.tokens.resize(first + static_cast<size_t>(num_tokens));
  const uint64_t stream = message_stream(conversation);
  const auto vocab = static_cast<uint32_t>(tokens_.vocab_size);
  for (size_t i = first; i < c.tokens.size(); ++i) c.tokens[i] = message_token(stream, i, vocab);
}

TurnRequest SimClient::send(int64_t conversation, int64_t now_ns) {
  Conversation& c = conversations_[static_cast<size_t>(conversation)];
  const workload::Conversation& wc = workload_->conversations[static_cast<size_t>(conversation)];
  PPD_CHECK(c.next_turn < wc.turns.size());
  const workload::Turn& t = wc.turns[c.next_turn];
  if (c.next_turn == 0) {
    const size_t last = wc.turns.size() - 1;
    c.tokens.reserve(static_cast<size_t>(workload::prompt_tokens_at(wc, last) + wc.turns[last].output_tokens +
                                         static_cast<int64_t>(wc.turns.size()) * options_.template_tokens));
    append_message(conversation, wc.system_tokens);
  }
  const int history = static_cast<int>(c.tokens.size());
  append_message(conversation, t.user_tokens + options_.template_tokens);
  kv::extend_block_hashes(tokens_.model_identity, c.tokens, tokens_.block_size, &c.hashes);
  const RequestId id{next_request_++};
  const int turn = static_cast<int>(++c.next_turn);
  in_flight_.emplace_back();
  ++num_in_flight_;
  InFlight& f = in_flight_.back();
  f.live = true;
  f.conversation = conversation;
  f.record = {.conversation_id = wc.id,
              .turn = turn,
              .send_s = to_s(now_ns),
              .prompt_tokens = static_cast<int64_t>(c.tokens.size())};
  if (first_send_s_ < 0 && wc.id >= options_.num_warmup_conversations) first_send_s_ = to_s(now_ns);
  return {.id = id,
          .conversation = conversation,
          .turn = turn,
          .prompt = c.tokens,
          .hashes = c.hashes,
          .num_history_tokens = history,
          .max_tokens = static_cast<int>(t.output_tokens)};
}

bool SimClient::on_token(RequestId id, int64_t now_ns) {
  InFlight& f = in_flight_[id.value];
  PPD_CHECK(f.live);
  const double t = to_s(now_ns);
  const bool first = f.record.first_token_s < 0;
  if (first) f.record.first_token_s = t;
  if (options_.record_token_times) f.record.token_times_s.push_back(t);
  return first;
}

std::optional<int64_t> SimClient::on_finish(RequestId id, int64_t now_ns, int64_t cached_tokens,
                                            std::span<const TokenId> answer, std::string error) {
  PPD_CHECK(id.value < in_flight_.size() && in_flight_[id.value].live);
  InFlight f = std::move(in_flight_[id.value]);
  in_flight_[id.value] = InFlight{};
  --num_in_flight_;
  Conversation& c = conversations_[static_cast<size_t>(f.conversation)];
  const workload::Conversation& wc = workload_->conversations[static_cast<size_t>(f.conversation)];
  f.record.ok = error.empty();
  f.record.error = std::move(error);
  f.record.end_s = to_s(now_ns);
  f.record.output_tokens = static_cast<int64_t>(answer.size());
  f.record.cached_tokens = cached_tokens;
  const bool ok = f.record.ok;
  if (wc.id < options_.num_warmup_conversations) {
    ++num_warmup_requests_;
  } else {
    last_end_s_ = std::max(last_end_s_, f.record.end_s);
    records_.push_back(std::move(f.record));
  }
  c.tokens.insert(c.tokens.end(), answer.begin(), answer.end());
  const size_t left = wc.turns.size() - c.next_turn;
  if (!ok || left == 0) {
    close(f.conversation, left);
    return std::nullopt;
  }
  const std::optional<int64_t> due = due_ns(f.conversation, now_ns);
  if (!due) close(f.conversation, left);
  return due;
}

void SimClient::close(int64_t conversation, size_t num_unsent) {
  num_skipped_turns_ += static_cast<int64_t>(num_unsent);
  --num_open_;
  Conversation& c = conversations_[static_cast<size_t>(conversation)];
  // Move-assigning empty vectors frees their memory (`= {}` would keep the capacity).
  c.tokens = std::vector<TokenId>();
  c.hashes = std::vector<BlockHash>();
}

double SimClient::duration_s() const { return first_send_s_ < 0 ? 0 : std::max(last_end_s_ - first_send_s_, 1e-9); }

}  // namespace ppd::sim
