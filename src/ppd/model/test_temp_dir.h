// TempDir (tests only): a fresh, unique directory under /tmp, removed with its contents when
// the object is destroyed. Not thread-safe; one per test.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "ppd/common/file.h"

namespace ppd::model {

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/ppd_model_test_XXXXXX";
    path_ = ::mkdtemp(name);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// The shared TinyStories model directory, or "" when PPD_SHARED_DIR is unset.
inline std::string tinystories_dir() {
  const char* shared = std::getenv("PPD_SHARED_DIR");
  return shared == nullptr ? "" : std::string(shared) + "/models/tinystories-656k";
}

}  // namespace ppd::model
