// Model identity: a 64-bit fingerprint of a model directory, the seed of the KV prefix-cache
// block hashes (h_0 = identity; h_i = H(h_{i-1}, tokens of block i)). Two nodes serving the
// same model directory (same files, any path) compute the same value, so their block hashes
// agree; a different config or different weights change it. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "ppd/common/status.h"

namespace ppd::model {

// XXH3-64 (seed 0), streamed over: the bytes of <dir>/config.json; then, for every
// <dir>/*.safetensors file in sorted file-name order, its header JSON bytes (as stored,
// padding included) followed by the first min(4096, data region size) bytes of its data
// region. Reads only those bytes. Errors: a missing config.json, no safetensors file, or a
// malformed one.
Result<uint64_t> compute_model_identity(const std::string& dir);

}  // namespace ppd::model
