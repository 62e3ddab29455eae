// Test helpers of ppd_model (tests only): the temporary directory and the shared TinyStories
// model directory.
#pragma once

#include <cstdlib>
#include <string>

#include "ppd/common/test_temp_dir.h"

namespace ppd::model {

using ppd::TempDir;

// The shared TinyStories model directory, or "" when PPD_SHARED_DIR is unset.
inline std::string tinystories_dir() {
  const char* shared = std::getenv("PPD_SHARED_DIR");
  return shared == nullptr ? "" : std::string(shared) + "/models/tinystories-656k";
}

}  // namespace ppd::model
