#include "test_models.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "ppd/model/synth.h"

namespace ppd::testing {

std::string tinystories_dir() {
  const char* shared = std::getenv("PPD_SHARED_DIR");
  if (shared == nullptr || *shared == '\0') return "";
  const std::string dir = std::string(shared) + "/models/tinystories-656k";
  EXPECT_TRUE(std::filesystem::exists(dir + "/model.safetensors")) << dir << " is missing";
  return dir;
}

std::string tiny_model_dir() {
  static const std::string dir = [] {
    const std::string cache =
        std::filesystem::temp_directory_path() / ("ppd-test-models-" + std::to_string(::getpid()));
    std::filesystem::create_directories(cache);
    Result<std::string> resolved = model::resolve_model("tiny", cache);
    EXPECT_TRUE(resolved.ok()) << resolved.status().to_string();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(
          std::filesystem::temp_directory_path() / ("ppd-test-models-" + std::to_string(::getpid())), ec);
    });
    return resolved.ok() ? *resolved : std::string();
  }();
  return dir;
}

const std::vector<TokenId> kTinyStoriesGreedyFromBos = {
    147, 201, 282, 215,  286, 598, 1662, 356, 499, 826, 1363, 1145, 1652, 615, 242,  1482, 951, 628,  499, 826,
    872, 921, 318, 385,  628, 499, 826,  617, 242, 198, 1047, 425,  1939, 122, 1924, 1171, 94,  303,  328, 229,
    521, 776, 115, 1139, 312, 447, 1456, 319, 115, 133, 114,  100,  167,  753, 1665, 361,  303, 1900, 319, 467};

}  // namespace ppd::testing
