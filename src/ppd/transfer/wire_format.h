// Encoding and decoding of the KV transfer wire format (described in tcp_transport.h):
// fixed-size little-endian headers and the PULL / RELEASE payloads. Decoders validate and
// return INVALID_ARGUMENT (requests) or DATA_LOSS (responses) naming the field, the rule and
// the value. Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/dtype.h"
#include "ppd/common/status.h"

namespace ppd::transfer::wire {

constexpr uint16_t kVersion = 2;  // 2: the PULL answer names the blocks' format
constexpr size_t kRequestHeaderBytes = 12;
constexpr size_t kResponseHeaderBytes = 24;
constexpr size_t kBlockHeaderBytes = 16;
constexpr size_t kPullPayloadFixedBytes = 12;  // u64 handle, u32 num_blocks
constexpr size_t kReleasePayloadBytes = 8;     // u64 handle
constexpr uint32_t kMaxMessageBytes = 4096;    // longer error messages are cut

constexpr uint32_t kMaxHelloPayloadBytes = 1024;  // the cluster secret

enum class RequestType : uint16_t { kPull = 1, kRelease = 2, kHello = 3 };

struct RequestHeader {
  RequestType type = RequestType::kPull;
  uint32_t payload_bytes = 0;
};

struct PullPayload {
  uint64_t handle = 0;
  std::vector<uint32_t> indices;
};

// What the values of a KV block are, as a PULL answer says: 0 unsaid, else the Dtype + 1.
uint16_t block_format_of(Dtype dtype);
// "f32", "f16", "bf16", "unsaid" or "unknown (N)".
std::string block_format_name(uint16_t format);

struct ResponseHeader {
  StatusCode code = StatusCode::kOk;
  uint16_t block_format = 0;  // PULL OK only
  uint32_t num_blocks = 0;
  uint64_t block_bytes = 0;
  uint32_t message_bytes = 0;
};

struct BlockHeader {
  uint32_t index = 0;
  uint64_t checksum = 0;
};

using RequestHeaderBytes = std::array<uint8_t, kRequestHeaderBytes>;
using ResponseHeaderBytes = std::array<uint8_t, kResponseHeaderBytes>;
using BlockHeaderBytes = std::array<uint8_t, kBlockHeaderBytes>;

// A whole request frame: header and payload.
std::vector<uint8_t> encode_pull_request(uint64_t handle, std::span<const uint32_t> indices);
std::vector<uint8_t> encode_release_request(uint64_t handle);
std::vector<uint8_t> encode_hello_request(std::string_view secret);
RequestHeaderBytes encode_request_header(uint16_t type, uint32_t payload_bytes);

// Checks magic, version, type and payload_bytes <= max_payload_bytes.
Result<RequestHeader> decode_request_header(std::span<const uint8_t, kRequestHeaderBytes> bytes,
                                            uint32_t max_payload_bytes);
// Checks num_blocks <= max_blocks and that the payload holds exactly num_blocks indices.
Result<PullPayload> decode_pull_payload(std::span<const uint8_t> payload, uint32_t max_blocks);
Result<uint64_t> decode_release_payload(std::span<const uint8_t> payload);
// Checks payload_length <= kMaxHelloPayloadBytes; returns the secret presented.
Result<std::string> decode_hello_payload(std::span<const uint8_t> payload);

// message_bytes: length of the message that follows (<= kMaxMessageBytes; 0 when OK).
ResponseHeaderBytes encode_response_header(StatusCode code, uint32_t num_blocks, uint64_t block_bytes,
                                           uint32_t message_bytes, uint16_t block_format = 0);
// Checks magic and that the status code is one ppd knows.
Result<ResponseHeader> decode_response_header(std::span<const uint8_t, kResponseHeaderBytes> bytes);

BlockHeaderBytes encode_block_header(uint32_t index, uint64_t checksum);
BlockHeader decode_block_header(std::span<const uint8_t, kBlockHeaderBytes> bytes);

}  // namespace ppd::transfer::wire
