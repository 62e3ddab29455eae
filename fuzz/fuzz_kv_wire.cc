// Fuzz target: KV wire frames as the server decodes requests (header, then the PULL, RELEASE
// or HELLO payload) and as the client decodes response and block headers.
#include <cstdint>
#include <span>

#include "ppd/transfer/wire_format.h"

namespace wire = ppd::transfer::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  if (size >= wire::kRequestHeaderBytes) {
    const auto header = wire::decode_request_header(input.first<wire::kRequestHeaderBytes>(), 1u << 20);
    const std::span<const uint8_t> payload = input.subspan(wire::kRequestHeaderBytes);
    if (header.ok()) {
      switch (header->type) {
        case wire::RequestType::kPull:
          (void)wire::decode_pull_payload(payload, 65536);
          break;
        case wire::RequestType::kRelease:
          (void)wire::decode_release_payload(payload);
          break;
        case wire::RequestType::kHello:
          (void)wire::decode_hello_payload(payload);
          break;
      }
    }
  }
  if (size >= wire::kResponseHeaderBytes) (void)wire::decode_response_header(input.first<wire::kResponseHeaderBytes>());
  if (size >= wire::kBlockHeaderBytes) (void)wire::decode_block_header(input.first<wire::kBlockHeaderBytes>());
  (void)wire::decode_pull_payload(input, 65536);
  return 0;
}
