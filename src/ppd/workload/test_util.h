// Test helpers for ppd_workload (tests only): the temporary directory and the shared trace
// directory.
#pragma once

#include <cstdlib>
#include <string>

#include "ppd/common/test_temp_dir.h"

namespace ppd::workload::testing {

using ppd::TempDir;

// $PPD_SHARED_DIR/traces, or "" when PPD_SHARED_DIR is unset.
inline std::string shared_traces_dir() {
  const char* shared = std::getenv("PPD_SHARED_DIR");
  return shared == nullptr ? "" : std::string(shared) + "/traces";
}

}  // namespace ppd::workload::testing
