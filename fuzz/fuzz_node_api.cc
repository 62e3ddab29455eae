// Fuzz target: the node API's request bodies (/generate, /prefill, /decode with its handle),
// as the node parses them.
#include <cstdint>
#include <string_view>

#include "ppd/node/node_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (std::string_view kind : {"generate", "prefill", "decode"}) (void)ppd::node::parse_node_request(body, kind);
  return 0;
}
