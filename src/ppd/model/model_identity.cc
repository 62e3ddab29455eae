#include "ppd/model/model_identity.h"

#include <xxhash.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "ppd/common/file.h"
#include "ppd/model/safetensors.h"

namespace ppd::model {
namespace {

constexpr size_t kDataPrefixBytes = 4096;

Result<std::vector<std::string>> safetensors_file_names(const std::string& dir) {
  std::error_code error;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".safetensors") && entry.is_regular_file()) names.push_back(name);
  }
  if (error) return not_found("{}: cannot list: {}", dir, error.message());
  if (names.empty()) return not_found("{}: no *.safetensors file", dir);
  std::sort(names.begin(), names.end());
  return names;
}

struct StateDeleter {
  void operator()(XXH3_state_t* state) const { XXH3_freeState(state); }
};

}  // namespace

Result<uint64_t> compute_model_identity(const std::string& dir) {
  PPD_ASSIGN_OR_RETURN(std::string config, read_file(dir + "/config.json"));
  PPD_ASSIGN_OR_RETURN(std::vector<std::string> names, safetensors_file_names(dir));
  std::unique_ptr<XXH3_state_t, StateDeleter> state(XXH3_createState());
  if (!state || XXH3_64bits_reset(state.get()) != XXH_OK) return internal_error("xxh3: cannot create state");
  XXH3_64bits_update(state.get(), config.data(), config.size());
  for (const std::string& name : names) {
    PPD_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(dir + "/" + name));
    const std::string_view header = file.header_json();
    XXH3_64bits_update(state.get(), header.data(), header.size());
    const std::span<const uint8_t> data = file.data_region();
    XXH3_64bits_update(state.get(), data.data(), std::min(kDataPrefixBytes, data.size()));
  }
  return static_cast<uint64_t>(XXH3_64bits_digest(state.get()));
}

}  // namespace ppd::model
