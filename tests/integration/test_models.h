// Models for integration tests: the real TinyStories-656K from $PPD_SHARED_DIR, and the
// synthetic `tiny` preset written once per test process into a temporary directory.
#pragma once

#include <string>
#include <vector>

#include "ppd/common/ids.h"

namespace ppd::testing {

// $PPD_SHARED_DIR/models/tinystories-656k, or "" when PPD_SHARED_DIR is unset (callers
// then GTEST_SKIP). Fails the test if the variable is set and the model is missing.
std::string tinystories_dir();

// TinyStories-656K's greedy decode from BOS, 60 tokens: ../shared/README.md's reference,
// computed in float64 by an independent implementation.
extern const std::vector<TokenId> kTinyStoriesGreedyFromBos;

// A synthesized `tiny` model (seed 0), shared by all tests of the process.
std::string tiny_model_dir();

}  // namespace ppd::testing

// Skips the current test when the shared TinyStories model is not configured.
#define PPD_REQUIRE_TINYSTORIES(var)                         \
  const std::string var = ::ppd::testing::tinystories_dir(); \
  if (var.empty()) GTEST_SKIP() << "PPD_SHARED_DIR is unset: TinyStories model unavailable"
