#include "ppd/kv/kv_storage.h"

#include <vector>

#include <gtest/gtest.h>

namespace ppd::kv {
namespace {

KvLayout small_layout() { return {.num_layers = 2, .num_kv_heads = 2, .num_heads = 4, .head_dim = 8, .block_size = 4}; }

TEST(KvStorageTest, ExportThenImportCopiesOneBlockExactly) {
  KvStorage a(small_layout(), 3);
  KvStorage b(small_layout(), 3);
  const auto n = static_cast<int64_t>(a.block_bytes());
  EXPECT_EQ(n, a.layout().block_values() * 4);
  for (int64_t i = 0; i < n; ++i) a.base()[n + i] = static_cast<uint8_t>(i * 7 + 1);
  ASSERT_TRUE(b.import_block(BlockId{2}, a.export_block(BlockId{1})).ok());
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(b.base()[2 * n + i], static_cast<uint8_t>(i * 7 + 1));
  for (int64_t i = 0; i < 2 * n; ++i) ASSERT_EQ(b.base()[i], 0);
}

TEST(KvStorageTest, ImportRejectsWrongSize) {
  KvStorage s(small_layout(), 1);
  std::vector<uint8_t> bytes(10);
  Status st = s.import_block(BlockId{0}, bytes);
  EXPECT_EQ(st.message(), "kv block: must be 1024 bytes; got 10");
}

TEST(KvLayoutTest, HalfPrecisionHalvesTheBytes) {
  KvLayout l = small_layout();
  l.dtype = Dtype::kBF16;
  EXPECT_EQ(l.block_bytes(), 512u);
  EXPECT_EQ(l.slab_bytes(), 64u);
  std::vector<uint8_t> pool(3 * l.block_bytes());
  EXPECT_EQ(l.slab(pool.data(), 2, 1, 1, 1) - pool.data(), 2 * 512 + (l.block_values() - 32) * 2);
}

TEST(KvLayoutTest, SlabsTileTheBlock) {
  const KvLayout l = small_layout();
  EXPECT_EQ(l.slab_offset(0, 0, 0), 0);
  EXPECT_EQ(l.slab_offset(0, 0, 1), 32);
  EXPECT_EQ(l.slab_offset(0, 1, 0), 64);
  EXPECT_EQ(l.slab_offset(1, 1, 1), l.block_values() - 32);
}

}  // namespace
}  // namespace ppd::kv
