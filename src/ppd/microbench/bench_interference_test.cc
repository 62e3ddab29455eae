#include "ppd/microbench/bench_interference.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ppd/model/synth.h"

namespace ppd::microbench {
namespace {

// The `tiny` preset, synthesized once into a temporary directory removed at the end.
class BenchInterferenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cache_dir_ = std::filesystem::temp_directory_path() / ("ppd-bench-interference-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(cache_dir_);
    Result<std::string> dir = model::resolve_model("tiny", cache_dir_.string());
    ASSERT_TRUE(dir.ok()) << dir.status().to_string();
    model_dir_ = *dir;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(cache_dir_, ec);
  }

  InterferenceBenchOptions tiny_options() const {
    return {.model = model_dir_,
            .threads = 1,
            .batches = {1, 2},
            .context_tokens = 20,
            .prefill_tokens = 24,
            .append_tokens = 5,
            .append_cached_tokens = 32,
            .repeats = 1};
  }

  static inline std::filesystem::path cache_dir_;
  static inline std::string model_dir_;
};

TEST_F(BenchInterferenceTest, MeasuresEveryBatchSizeWithTheAppendPrefixFromTheCache) {
  const InterferenceBenchOptions options = tiny_options();
  std::ostringstream log;
  Result<std::vector<InterferenceRow>> rows = run_interference_bench(options, log);
  ASSERT_TRUE(rows.ok()) << rows.status().to_string();
  ASSERT_EQ(rows->size(), 2u);
  for (size_t i = 0; i < rows->size(); ++i) {
    const InterferenceRow& r = (*rows)[i];
    EXPECT_EQ(r.batch, options.batches[i]);
    EXPECT_GT(r.decode_ms, 0);
    EXPECT_GT(r.decode_tokens_per_s, 0);
    EXPECT_EQ(r.full_prefill.num_new_tokens, 24);
    EXPECT_EQ(r.full_prefill.num_cached_tokens, 0);
    EXPECT_GT(r.full_prefill.step_ms, 0);
    EXPECT_GT(r.full_prefill.slowdown, 0);
    EXPECT_EQ(r.append_prefill.num_new_tokens, 5);
    EXPECT_EQ(r.append_prefill.num_cached_tokens, 32);
    EXPECT_GT(r.append_prefill.step_ms, 0);
    EXPECT_GT(r.append_prefill.slowdown, 0);
  }
  EXPECT_NE(log.str().find("b=2:"), std::string::npos) << log.str();

  const std::string table = format_interference_bench(*rows, options, "test machine");
  EXPECT_TRUE(table.starts_with("machine: test machine\n")) << table;
  EXPECT_NE(table.find("+ append-prefill 5 on 32 cached"), std::string::npos) << table;
  const nlohmann::json j = nlohmann::json::parse(interference_bench_json(*rows, options, "test machine"));
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][1]["batch"], 2);
  EXPECT_EQ(j["rows"][1]["append_prefill"]["cached_tokens"], 32);
}

TEST_F(BenchInterferenceTest, RejectsACachedPrefixThatIsNotWholeBlocks) {
  InterferenceBenchOptions options = tiny_options();
  options.append_cached_tokens = 40;
  std::ostringstream log;
  const Result<std::vector<InterferenceRow>> rows = run_interference_bench(options, log);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().message(), "append_cached_tokens: must be a positive multiple of the block size 16; got 40");
}

}  // namespace
}  // namespace ppd::microbench
