#include "ppd/kv/kv_storage.h"

#include <vector>

#include <gtest/gtest.h>

namespace ppd::kv {
namespace {

KvLayout small_layout() { return {.num_layers = 2, .num_kv_heads = 2, .num_heads = 4, .head_dim = 8, .block_size = 4}; }

TEST(KvStorageTest, ExportThenImportCopiesOneBlockExactly) {
  KvStorage a(small_layout(), 3);
  KvStorage b(small_layout(), 3);
  const int64_t n = a.layout().block_floats();
  EXPECT_EQ(a.block_bytes(), static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) a.base()[n + i] = static_cast<float>(i) * 0.5f;
  ASSERT_TRUE(b.import_block(BlockId{2}, a.export_block(BlockId{1})).ok());
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(b.base()[2 * n + i], static_cast<float>(i) * 0.5f);
  for (int64_t i = 0; i < 2 * n; ++i) ASSERT_EQ(b.base()[i], 0.0f);
}

TEST(KvStorageTest, ImportRejectsWrongSize) {
  KvStorage s(small_layout(), 1);
  std::vector<uint8_t> bytes(10);
  Status st = s.import_block(BlockId{0}, bytes);
  EXPECT_EQ(st.message(), "kv block: must be 1024 bytes; got 10");
}

TEST(KvLayoutTest, SlabsTileTheBlock) {
  const KvLayout l = small_layout();
  EXPECT_EQ(l.slab_offset(0, 0, 0), 0);
  EXPECT_EQ(l.slab_offset(0, 0, 1), 32);
  EXPECT_EQ(l.slab_offset(0, 1, 0), 64);
  EXPECT_EQ(l.slab_offset(1, 1, 1), l.block_floats() - 32);
}

}  // namespace
}  // namespace ppd::kv
