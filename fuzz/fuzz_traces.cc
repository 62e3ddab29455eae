// Fuzz target: the trace readers (Mooncake JSONL, Azure CSV, ShareGPT JSON) on a scratch copy
// of the input; the first byte chooses the reader.
#include <cstdint>

#include "fuzz_util.h"
#include "ppd/workload/sharegpt.h"
#include "ppd/workload/traces.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string& path = ppd::fuzz::write_scratch(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      (void)ppd::workload::read_mooncake_trace(path, {});
      break;
    case 1:
      (void)ppd::workload::read_azure_trace(path, {});
      break;
    default:
      (void)ppd::workload::read_sharegpt(path, {},
                                         [](std::string_view text) { return static_cast<int64_t>(text.size() / 4); });
      break;
  }
  return 0;
}
