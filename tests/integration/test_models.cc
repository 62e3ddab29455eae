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

}  // namespace ppd::testing
