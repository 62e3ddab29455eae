#include "ppd/kv/kv_cache_manager.h"

#include <algorithm>
#include <list>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "ppd/kv/block_hash.h"
#include "ppd/kv/prefix_cache.h"

namespace ppd::kv {
namespace {

// A trivially correct model of KvCacheManager: plain containers and linear scans.
class ReferenceCache {
 public:
  explicit ReferenceCache(int num_blocks) : refs_(num_blocks, 0), hash_(num_blocks) {
    for (int i = num_blocks - 1; i >= 0; --i) free_.push_back(i);
  }
  int match(const std::vector<BlockHash>& hashes) const {
    int n = 0;
    while (n < static_cast<int>(hashes.size()) && find(hashes[n]) >= 0) ++n;
    return n;
  }
  int find(BlockHash h) const {
    for (size_t i = 0; i < hash_.size(); ++i)
      if (hash_[i] == h) return static_cast<int>(i);
    return -1;
  }
  void acquire(int block) {
    lru_.remove(block);
    ++refs_[block];
  }
  std::optional<int> allocate() {
    if (!free_.empty()) {
      int b = free_.back();
      free_.pop_back();
      refs_[b] = 1;
      return b;
    }
    if (lru_.empty()) return std::nullopt;
    int b = lru_.front();
    lru_.pop_front();
    hash_[b].reset();
    refs_[b] = 1;
    return b;
  }
  void register_block(int block, BlockHash h) {
    if (!hash_[block] && find(h) < 0) hash_[block] = h;
  }
  void release(int block) {
    if (--refs_[block] > 0) return;
    if (hash_[block])
      lru_.push_back(block);
    else
      free_.push_back(block);
  }
  int allocatable() const { return static_cast<int>(free_.size() + lru_.size()); }
  std::set<uint64_t> registered() const {
    std::set<uint64_t> s;
    for (auto& h : hash_)
      if (h) s.insert(h->value);
    return s;
  }

 private:
  std::vector<int> refs_;
  std::vector<std::optional<BlockHash>> hash_;
  std::vector<int> free_;
  std::list<int> lru_;
};

struct LiveRequest {
  std::vector<TokenId> tokens;
  BlockTable table;
};

class RandomizedKvTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(RandomizedKvTest, MatchesReferenceAndKeepsInvariants) {
  const uint32_t seed = GetParam();
  SCOPED_TRACE(::testing::Message() << "seed=" << seed);
  std::mt19937 rng(seed);
  constexpr int kBlockSize = 4;
  constexpr int kNumBlocks = 24;
  constexpr uint64_t kModel = 0x5eed;
  KvCacheManager cache({.num_blocks = kNumBlocks, .block_size = kBlockSize});
  ReferenceCache ref(kNumBlocks);
  std::vector<LiveRequest> live;
  std::vector<std::vector<TokenId>> history;  // finished prompts, reused as prefixes
  std::set<uint64_t> published;               // hashes per the KV events

  for (int op = 0; op < 3000; ++op) {
    const bool start = live.empty() || (rng() % 3 != 0);
    if (start) {
      std::vector<TokenId> tokens;
      if (!history.empty() && rng() % 2 == 0) {
        tokens = history[rng() % history.size()];
        tokens.resize(std::min<size_t>(tokens.size(), rng() % (tokens.size() + 1)));
      }
      const int extra = 1 + static_cast<int>(rng() % 14);
      for (int i = 0; i < extra; ++i) tokens.push_back(static_cast<TokenId>(rng() % 3));
      const std::vector<BlockHash> hashes = hash_full_blocks(kModel, tokens, kBlockSize);
      const int matched = cache.match_prefix(hashes);
      ASSERT_EQ(matched, ref.match(hashes));
      LiveRequest req{tokens, {}};
      cache.acquire_prefix(hashes, matched, &req.table);
      for (int i = 0; i < matched; ++i) ref.acquire(ref.find(hashes[i]));
      const int needed = num_blocks_for(static_cast<int64_t>(tokens.size()), kBlockSize) - matched;
      bool ok = true;
      for (int i = 0; i < needed && ok; ++i) {
        Result<BlockId> got = cache.allocate();
        std::optional<int> want = ref.allocate();
        ASSERT_EQ(got.ok(), want.has_value());
        if (!got.ok()) {
          EXPECT_EQ(got.status().code(), StatusCode::kResourceExhausted);
          ok = false;
          break;
        }
        ASSERT_EQ(got->value, *want);
        req.table.push_back(*got);
      }
      for (int i = matched; ok && i < static_cast<int>(hashes.size()); ++i) {
        cache.register_block(req.table[i], hashes[i]);
        ref.register_block(req.table[i].value, hashes[i]);
      }
      if (ok) {
        live.push_back(std::move(req));
      } else {
        for (int i = req.table.num_blocks() - 1; i >= 0; --i) ref.release(req.table[i].value);
        cache.release_all(&req.table);
      }
    } else {
      const size_t victim = rng() % live.size();
      LiveRequest req = std::move(live[victim]);
      live.erase(live.begin() + static_cast<ptrdiff_t>(victim));
      for (int i = req.table.num_blocks() - 1; i >= 0; --i) ref.release(req.table[i].value);
      cache.release_all(&req.table);
      history.push_back(req.tokens);
    }
    ASSERT_TRUE(cache.check_invariants().ok()) << cache.check_invariants().to_string() << " op " << op;
    ASSERT_EQ(cache.num_allocatable_blocks(), ref.allocatable()) << "op " << op;
    for (const KvEvent& e : cache.take_events()) {
      if (e.kind == KvEventKind::kStored) {
        EXPECT_TRUE(published.insert(e.hash.value).second);
      } else {
        EXPECT_EQ(published.erase(e.hash.value), 1u);
      }
    }
    ASSERT_EQ(published, ref.registered()) << "op " << op;
  }
  for (auto& req : live) cache.release_all(&req.table);
  ASSERT_TRUE(cache.check_invariants().ok());
  EXPECT_EQ(cache.num_allocatable_blocks(), kNumBlocks);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomizedKvTest, ::testing::Values(1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u));

TEST(KvCacheManagerTest, FinishedBlocksAreMatchedByANewRequest) {
  KvCacheManager cache({.num_blocks = 8, .block_size = 2});
  const std::vector<TokenId> tokens = {1, 2, 3, 4, 5};
  const auto hashes = hash_full_blocks(7, tokens, 2);
  ASSERT_EQ(hashes.size(), 2u);
  BlockTable table;
  for (int i = 0; i < 3; ++i) table.push_back(*cache.allocate());
  for (int i = 0; i < 2; ++i) cache.register_block(table[i], hashes[i]);
  const BlockId first = table[0];
  cache.release_all(&table);
  EXPECT_EQ(cache.num_cached_blocks(), 2);
  EXPECT_EQ(cache.num_free_blocks(), 6);

  BlockTable next;
  ASSERT_EQ(cache.match_prefix(hashes), 2);
  cache.acquire_prefix(hashes, 2, &next);
  EXPECT_EQ(next[0], first);
  EXPECT_EQ(cache.ref_count(first), 1);
  EXPECT_EQ(cache.num_cached_blocks(), 0);
  EXPECT_TRUE(cache.check_invariants().ok());
  cache.release_all(&next);
}

TEST(KvCacheManagerTest, EvictsLeastRecentlyUsedAndReportsIt) {
  KvCacheManager cache({.num_blocks = 2, .block_size = 1});
  BlockTable a, b;
  a.push_back(*cache.allocate());
  b.push_back(*cache.allocate());
  cache.register_block(a[0], BlockHash{10});
  cache.register_block(b[0], BlockHash{20});
  cache.release_all(&a);  // cached first: least recently used
  cache.release_all(&b);
  (void)cache.take_events();
  Result<BlockId> got = cache.allocate();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(cache.match_prefix(std::vector<BlockHash>{BlockHash{10}}), 0);
  EXPECT_EQ(cache.match_prefix(std::vector<BlockHash>{BlockHash{20}}), 1);
  EXPECT_EQ(cache.take_events(), (std::vector<KvEvent>{{KvEventKind::kRemoved, BlockHash{10}}}));
  Result<BlockId> second = cache.allocate();
  ASSERT_TRUE(second.ok());
  Result<BlockId> none = cache.allocate();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "kv cache: all 2 blocks are in use");
  cache.release(*got);
  cache.release(*second);
  EXPECT_TRUE(cache.check_invariants().ok());
}

TEST(KvCacheManagerTest, PrefixCacheOffMatchesNothing) {
  KvCacheManager cache({.num_blocks = 4, .block_size = 1, .enable_prefix_cache = false});
  BlockTable t;
  t.push_back(*cache.allocate());
  cache.register_block(t[0], BlockHash{1});
  cache.release_all(&t);
  EXPECT_EQ(cache.match_prefix(std::vector<BlockHash>{BlockHash{1}}), 0);
  EXPECT_EQ(cache.num_free_blocks(), 4);
  EXPECT_TRUE(cache.take_events().empty());
}

// Hashes that share their low bits land in one probe run of the flat table; erasing from the
// middle of a run must keep every other hash reachable.
TEST(PrefixCacheTest, CollidingHashesStayReachableThroughErasures) {
  constexpr int kBlocks = 64;
  PrefixCache cache(kBlocks);
  std::mt19937_64 rng(7);
  std::map<int, uint64_t> held;  // block -> hash
  for (int round = 0; round < 5000; ++round) {
    const int block = static_cast<int>(rng() % kBlocks);
    if (held.contains(block)) {
      cache.erase(BlockId{block});
      held.erase(block);
    } else {
      const uint64_t hash = (rng() % 8) | (rng() << 8);  // 8 home slots for all
      if (cache.insert(BlockHash{hash}, BlockId{block})) held[block] = hash;
    }
    if (round % 97 == 0) {
      ASSERT_TRUE(cache.check_invariants().ok()) << round;
    }
  }
  EXPECT_EQ(cache.num_registered(), static_cast<int>(held.size()));
  for (const auto& [block, hash] : held) {
    EXPECT_EQ(cache.lookup(BlockHash{hash}), BlockId{block});
  }
  EXPECT_EQ(cache.lookup(BlockHash{(uint64_t{1} << 40) | 3}), std::nullopt);
}

// Slots keep a hash's low 32 bits only: hashes equal there must still be told apart by
// their full value, before and after erasures in the middle of their probe run.
TEST(PrefixCacheTest, HashesSharingTheirLow32BitsAreToldApart) {
  constexpr int kBlocks = 24;
  PrefixCache cache(kBlocks);
  const auto hash = [](int k) { return BlockHash{(static_cast<uint64_t>(k) << 32) | 0x5u}; };
  for (int b = 0; b < kBlocks; ++b) ASSERT_TRUE(cache.insert(hash(b + 1), BlockId{b}));
  EXPECT_FALSE(cache.insert(hash(3), BlockId{0}));  // held already, by block 2
  for (int b = 0; b < kBlocks; b += 3) cache.erase(BlockId{b});
  ASSERT_TRUE(cache.check_invariants().ok());
  for (int b = 0; b < kBlocks; ++b) {
    EXPECT_EQ(cache.lookup(hash(b + 1)), b % 3 == 0 ? std::nullopt : std::optional(BlockId{b})) << b;
  }
  EXPECT_EQ(cache.lookup(hash(kBlocks + 1)), std::nullopt);
  EXPECT_EQ(cache.lookup(BlockHash{0x5u}), std::nullopt);
}

// Against a list model, random pushes, removals (prefix hits reviving a cached block) and
// pops evict in the same order.
TEST(PrefixCacheTest, TheLruQueueEvictsLeastRecentlyReleasedFirst) {
  constexpr int kBlocks = 48;
  PrefixCache cache(kBlocks);
  for (int b = 0; b < kBlocks; ++b) ASSERT_TRUE(cache.insert(BlockHash{0x9e3779b97f4a7c15ULL * (b + 1)}, BlockId{b}));
  std::list<int> model;  // least recently used first
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20000; ++round) {
    const int block = static_cast<int>(rng() % kBlocks);
    const bool in_lru = std::find(model.begin(), model.end(), block) != model.end();
    const uint64_t op = rng() % 3;
    if (op == 0 && !in_lru) {
      cache.push_evictable(BlockId{block});
      model.push_back(block);
    } else if (op == 1 && in_lru) {
      cache.remove_evictable(BlockId{block});
      model.remove(block);
    } else if (op == 2) {
      const std::optional<BlockId> popped = cache.pop_lru();
      if (model.empty()) {
        ASSERT_EQ(popped, std::nullopt) << round;
      } else {
        ASSERT_EQ(popped, BlockId{model.front()}) << round;
        model.pop_front();
      }
    }
    ASSERT_EQ(cache.num_evictable(), static_cast<int>(model.size())) << round;
    if (round % 101 == 0) {
      ASSERT_TRUE(cache.check_invariants().ok()) << round;
    }
  }
  while (!model.empty()) {
    ASSERT_EQ(cache.pop_lru(), BlockId{model.front()});
    model.pop_front();
  }
  EXPECT_EQ(cache.pop_lru(), std::nullopt);
  EXPECT_TRUE(cache.check_invariants().ok());
}

TEST(BlockHashTest, ChainedAndSeededByModel) {
  const std::vector<TokenId> tokens = {5, 6, 7, 8, 9};
  const auto a = hash_full_blocks(1, tokens, 2);
  const auto b = hash_full_blocks(2, tokens, 2);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_NE(a[0], b[0]);
  EXPECT_EQ(a[1], hash_block(a[0].value, std::vector<TokenId>{7, 8}));
  // Same second block after a different first block hashes differently.
  const auto c = hash_full_blocks(1, std::vector<TokenId>{0, 6, 7, 8}, 2);
  EXPECT_NE(c[1], a[1]);
  std::vector<BlockHash> ext(a.begin(), a.begin() + 1);
  extend_block_hashes(1, tokens, 2, &ext);
  EXPECT_EQ(ext, a);
}

}  // namespace
}  // namespace ppd::kv
