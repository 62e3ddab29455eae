#include "engine_test_util.h"

#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

namespace ppd::testing {
namespace {
const SteadyClock kClock;
}

engine::EngineOptions test_options(int num_blocks, int num_threads) {
  engine::EngineOptions o;
  o.num_kv_blocks = num_blocks;
  o.num_threads = num_threads;
  return o;
}

std::unique_ptr<engine::Engine> make_engine(const std::string& dir, const engine::EngineOptions& options) {
  auto engine = engine::Engine::create(dir, options, &kClock);
  EXPECT_TRUE(engine.ok()) << engine.status().to_string();
  return engine.ok() ? std::move(*engine) : nullptr;
}

request::SamplingParams greedy(int max_tokens, bool return_logits) {
  request::SamplingParams p;
  p.temperature = 0.0;
  p.max_tokens = max_tokens;
  p.ignore_eos = true;
  p.return_logits = return_logits;
  return p;
}

std::map<uint64_t, Completion> run_all(engine::Engine& engine) {
  std::map<uint64_t, Completion> done;
  for (int steps = 0; engine.has_unfinished(); ++steps) {
    if (steps > 100000) {
      ADD_FAILURE() << "engine did not finish";
      break;
    }
    for (engine::RequestOutput& out : engine.step().outputs) {
      Completion& c = done[out.id.value];
      c.tokens.push_back(out.token);
      if (!out.logits.empty()) c.logits.push_back(std::move(out.logits));
      c.num_cached_tokens = out.num_cached_tokens;
      c.finish_reason = out.finish_reason;
    }
    const Status invariants = engine.check_invariants();
    EXPECT_TRUE(invariants.ok()) << invariants.to_string();
    if (!invariants.ok()) break;
  }
  return done;
}

Completion run_one(engine::Engine& engine, std::vector<TokenId> prompt, const request::SamplingParams& params) {
  Result<RequestId> id = engine.add_request({.prompt = std::move(prompt), .params = params});
  EXPECT_TRUE(id.ok()) << id.status().to_string();
  if (!id.ok()) return {};
  return run_all(engine)[id->value];
}

float max_abs_diff(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return std::numeric_limits<float>::infinity();
  float worst = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return std::numeric_limits<float>::infinity();
    for (size_t j = 0; j < a[i].size(); ++j) worst = std::max(worst, std::fabs(a[i][j] - b[i][j]));
  }
  return worst;
}

std::vector<TokenId> random_tokens(uint32_t seed, int n, TokenId lo, TokenId hi) {
  std::mt19937 rng(seed);
  std::vector<TokenId> t(static_cast<size_t>(n));
  for (auto& x : t) x = lo + static_cast<TokenId>(rng() % static_cast<uint32_t>(hi - lo));
  return t;
}

}  // namespace ppd::testing
