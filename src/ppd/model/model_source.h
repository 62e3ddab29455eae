// Where `--model DIR|PRESET` flags lead: an existing model directory is used as is; a
// preset name (tiny, small, medium) is synthesized once into the model cache directory
// ($PPD_CACHE_DIR, else ~/.cache/ppd/models) and reused afterwards.
#pragma once

#include <string>

#include "ppd/common/status.h"

namespace ppd::model {

// Returns the model cache directory (created if missing).
Result<std::string> model_cache_dir();

// Resolves a --model argument to a directory, synthesizing a preset when needed.
Result<std::string> resolve_model_arg(const std::string& model_or_preset);

}  // namespace ppd::model
