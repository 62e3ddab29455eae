// The folder where a command's child processes write their stderr logs.
#pragma once

#include <string>
#include <string_view>

#include "ppd/common/status.h"

namespace ppd::launch {

// `log_dir` itself, created with its parents when missing; or, when it is empty, a new folder
// `<prefix>-XXXXXX` under $TMPDIR (else /tmp). Returns its path; unavailable naming the folder
// and the reason when it cannot be created. Mutates the file system.
Result<std::string> make_log_dir(const std::string& log_dir, std::string_view prefix);

}  // namespace ppd::launch
