// Three-turn greedy conversations through in-process nodes, with turn 2+ served three ways:
// the remote path with a full transfer, the remote path with a delta transfer, and the
// local path on the decode node. All give the same tokens, and the KV moved per turn is
// what each path implies: every prompt block, only the blocks D lacks, or nothing.
#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "node_test_util.h"
#include "ppd/model/model_config.h"
#include "test_models.h"

namespace ppd::testing {
namespace {

using node::NodeRequest;

enum class Path { kRemoteFull, kRemoteDelta, kLocal };

struct TurnRecord {
  std::vector<TokenId> prompt;
  std::vector<TokenId> output;
  node::TransferStats transfer;
  int num_cached_tokens = 0;  // reported by the node that ran the prompt on D's side
};

constexpr int kBlockSize = 16;

class ConversationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tinystories_dir();
    if (dir_.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: TinyStories model unavailable";
    vocab_ = model::load_model_config(dir_)->vocab_size;
  }

  // Runs turn after turn; turn 1 always takes the remote path (full transfer).
  std::vector<TurnRecord> converse(Path path) {
    InProcessCluster cluster;
    TestNode& p = cluster.add_node("p0", node::NodeRole::kPrefill, dir_);
    TestNode& d = cluster.add_node("d0", node::NodeRole::kDecode, dir_);
    std::vector<TurnRecord> turns;
    std::vector<TokenId> history;
    for (int turn = 0; turn < 3; ++turn) {
      const std::vector<TokenId> user = random_tokens(100 + turn, 20 + 13 * turn, 3, vocab_);
      history.insert(history.end(), user.begin(), user.end());
      TurnRecord rec{.prompt = history};
      const Path how = turn == 0 ? Path::kRemoteFull : path;
      run_turn(cluster, *p.service, *d.service, how, &rec);
      history.insert(history.end(), rec.output.begin(), rec.output.end());
      turns.push_back(std::move(rec));
    }
    cluster.settle();
    EXPECT_EQ(p.service->handles().size(), 0);
    EXPECT_TRUE(cluster.run(p.service->check_invariants()).ok());
    EXPECT_TRUE(cluster.run(d.service->check_invariants()).ok());
    EXPECT_TRUE(cluster.run(p.loop->call([](engine::Engine& e) { return e.pinned_ids().empty(); })));
    return turns;
  }

  void run_turn(InProcessCluster& cluster, node::NodeService& p, node::NodeService& d, Path how, TurnRecord* rec) {
    const NodeRequest req{.token_ids = rec->prompt, .sampling = greedy(24)};
    if (how == Path::kLocal) {
      auto stream = cluster.run(d.generate(req));
      ASSERT_TRUE(stream.ok()) << stream.status().to_string();
      StreamResult r = cluster.run(read_all(std::move(*stream)));
      ASSERT_TRUE(r.status.ok()) << r.status.to_string();
      rec->output = r.tokens;
      rec->num_cached_tokens = r.last.num_cached_tokens;
      return;
    }
    Result<node::KvHandle> handle = cluster.run(p.prefill(req));
    ASSERT_TRUE(handle.ok()) << handle.status().to_string();
    NodeRequest decode = req;
    decode.handle = *handle;
    decode.mode = how == Path::kRemoteFull ? sched::ImportMode::kFull : sched::ImportMode::kDelta;
    Result<node::DecodeStarted> started = cluster.run(d.decode(decode));
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    rec->transfer = started->transfer;
    StreamResult r = cluster.run(read_all(std::move(started->stream)));
    ASSERT_TRUE(r.status.ok()) << r.status.to_string();
    rec->output = r.tokens;
    rec->num_cached_tokens = r.last.num_cached_tokens;
  }

  std::string dir_;
  int vocab_ = 0;
};

int blocks_for(size_t tokens) { return static_cast<int>((tokens + kBlockSize - 1) / kBlockSize); }

TEST_F(ConversationTest, EveryPathGivesTheSameTokensAndMovesWhatItImplies) {
  const std::vector<TurnRecord> full = converse(Path::kRemoteFull);
  const std::vector<TurnRecord> delta = converse(Path::kRemoteDelta);
  const std::vector<TurnRecord> local = converse(Path::kLocal);
  ASSERT_EQ(full.size(), 3u);
  ASSERT_EQ(delta.size(), 3u);
  ASSERT_EQ(local.size(), 3u);
  const int64_t block_bytes = full[0].transfer.bytes / blocks_for(full[0].prompt.size());
  for (size_t t = 0; t < 3; ++t) {
    EXPECT_EQ(full[t].prompt, delta[t].prompt) << "turn " << t + 1;
    EXPECT_EQ(full[t].output, delta[t].output) << "turn " << t + 1;
    EXPECT_EQ(full[t].output, local[t].output) << "turn " << t + 1;
    EXPECT_EQ(full[t].output.size(), 24u);
    const int prompt_blocks = blocks_for(full[t].prompt.size());
    EXPECT_EQ(full[t].transfer.num_pulled_blocks, prompt_blocks) << "turn " << t + 1;
    EXPECT_EQ(full[t].transfer.bytes, prompt_blocks * block_bytes);
    if (t == 0) continue;
    // D computed the previous prompt and all but the last output token: those full blocks
    // are cached there, and the new prompt starts with exactly those tokens.
    const size_t kept_tokens = full[t - 1].prompt.size() + full[t - 1].output.size() - 1;
    const int kept_blocks = static_cast<int>(std::min(kept_tokens, full[t].prompt.size()) / kBlockSize);
    EXPECT_EQ(delta[t].transfer.num_local_blocks, kept_blocks) << "turn " << t + 1;
    EXPECT_EQ(delta[t].transfer.num_pulled_blocks, prompt_blocks - kept_blocks) << "turn " << t + 1;
    EXPECT_EQ(delta[t].transfer.bytes, (prompt_blocks - kept_blocks) * block_bytes);
    EXPECT_EQ(local[t].transfer.bytes, 0);
    EXPECT_EQ(local[t].num_cached_tokens, kept_blocks * kBlockSize) << "turn " << t + 1;
    std::cout << "turn " << t + 1 << ": prompt " << full[t].prompt.size() << " tokens, " << prompt_blocks
              << " blocks; bytes moved: full " << full[t].transfer.bytes << ", delta " << delta[t].transfer.bytes
              << ", local 0\n";
  }
}

}  // namespace
}  // namespace ppd::testing
