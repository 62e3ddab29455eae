#include "ppd/launch/log_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace ppd::launch {

Result<std::string> make_log_dir(const std::string& log_dir, std::string_view prefix) {
  if (log_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string path = fmt::format("{}/{}-XXXXXX", tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", prefix);
    if (::mkdtemp(path.data()) == nullptr) {
      return unavailable("log-dir: cannot create {}: {}", path, std::strerror(errno));
    }
    return path;
  }
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  if (ec) return unavailable("log-dir: cannot create {}: {}", log_dir, ec.message());
  return log_dir;
}

}  // namespace ppd::launch
