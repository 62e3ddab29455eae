// Fuzz target: the readers of a model directory's files. The first byte chooses the reader:
// config.json (parse_model_config), tokenizer.json (Tokenizer::from_json, with the rest as
// tokenizer_config.json past a NUL) or a .safetensors file (SafetensorsFile::open on a scratch
// copy); the rest of the input is the file.
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "ppd/model/model_config.h"
#include "ppd/model/safetensors.h"
#include "ppd/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view file(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      (void)ppd::model::parse_model_config(file, "config.json");
      break;
    case 1: {
      const size_t nul = file.find('\0');
      (void)ppd::tokenizer::Tokenizer::from_json(file.substr(0, nul),
                                                 nul == std::string_view::npos ? "" : file.substr(nul + 1));
      break;
    }
    default:
      (void)ppd::model::SafetensorsFile::open(ppd::fuzz::write_scratch(data + 1, size - 1));
      break;
  }
  return 0;
}
