#include "ppd/model/model_identity.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ppd/common/file.h"
#include "ppd/model/synth.h"
#include "ppd/model/test_temp_dir.h"

namespace ppd::model {
namespace {

namespace fs = std::filesystem;

TEST(ModelIdentityTest, StableAndIndependentOfPath) {
  TempDir a, b;
  ASSERT_TRUE(synthesize_model(SynthOptions{*preset_config("tiny"), 5}, a.path()).ok());
  fs::copy(a.path(), b.path(), fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  const Result<uint64_t> first = compute_model_identity(a.path());
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(*compute_model_identity(a.path()), *first);
  EXPECT_EQ(*compute_model_identity(b.path()), *first);
}

TEST(ModelIdentityTest, ChangesWithConfigOrWeights) {
  TempDir a, b;
  ASSERT_TRUE(synthesize_model(SynthOptions{*preset_config("tiny"), 5}, a.path()).ok());
  ASSERT_TRUE(synthesize_model(SynthOptions{*preset_config("tiny"), 6}, b.path()).ok());
  const uint64_t original = *compute_model_identity(a.path());
  EXPECT_NE(*compute_model_identity(b.path()), original);  // same config, other weights
  ASSERT_TRUE(write_file(a.file("config.json"), *read_file(a.file("config.json")) + " ").ok());
  EXPECT_NE(*compute_model_identity(a.path()), original);
}

TEST(ModelIdentityTest, ShardedModelHashesEveryShard) {
  TempDir a;
  ASSERT_TRUE(synthesize_model(SynthOptions{*preset_config("tiny"), 5, Dtype::kF32, 2}, a.path()).ok());
  const Result<uint64_t> sharded = compute_model_identity(a.path());
  ASSERT_TRUE(sharded.ok()) << sharded.status().to_string();
  fs::remove(a.file("model-00002-of-00002.safetensors"));
  EXPECT_NE(*compute_model_identity(a.path()), *sharded);
}

TEST(ModelIdentityTest, Errors) {
  TempDir empty;
  EXPECT_EQ(compute_model_identity(empty.path()).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(write_file(empty.file("config.json"), "{}").ok());
  EXPECT_EQ(compute_model_identity(empty.path()).status().message(), empty.path() + ": no *.safetensors file");
}

TEST(ModelIdentityTest, TinyStories) {
  const std::string dir = tinystories_dir();
  if (dir.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: no TinyStories model to read";
  const Result<uint64_t> identity = compute_model_identity(dir);
  ASSERT_TRUE(identity.ok()) << identity.status().to_string();
  EXPECT_EQ(*compute_model_identity(dir), *identity);
}

}  // namespace
}  // namespace ppd::model
