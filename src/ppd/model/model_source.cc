#include "ppd/model/model_source.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "ppd/model/synth.h"

namespace ppd::model {

Result<std::string> model_cache_dir() {
  std::string dir;
  if (const char* env = std::getenv("PPD_CACHE_DIR"); env != nullptr && *env != '\0') {
    dir = env;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    dir = std::string(home) + "/.cache/ppd/models";
  } else {
    dir = "/tmp/ppd-models";
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return unavailable("model cache {}: cannot create: {}", dir, ec.message());
  return dir;
}

Result<std::string> resolve_model_arg(const std::string& model_or_preset) {
  PPD_ASSIGN_OR_RETURN(const std::string cache, model_cache_dir());
  return model::resolve_model(model_or_preset, cache);
}

}  // namespace ppd::model
