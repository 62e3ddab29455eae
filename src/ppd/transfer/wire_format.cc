#include "ppd/transfer/wire_format.h"

#include <cstring>

namespace ppd::transfer::wire {
namespace {

constexpr std::array<uint8_t, 4> kRequestMagic = {'P', 'P', 'D', 'K'};
constexpr std::array<uint8_t, 4> kResponseMagic = {'P', 'P', 'D', 'R'};

template <typename T>
void store_le(uint8_t* out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
}

template <typename T>
T load_le(const uint8_t* in) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(in[i]) << (8 * i);
  return static_cast<T>(v);
}

std::string magic_text(const uint8_t* m) { return fmt::format("{:02x} {:02x} {:02x} {:02x}", m[0], m[1], m[2], m[3]); }

}  // namespace

RequestHeaderBytes encode_request_header(uint16_t type, uint32_t payload_bytes) {
  RequestHeaderBytes h{};
  std::memcpy(h.data(), kRequestMagic.data(), 4);
  store_le<uint16_t>(h.data() + 4, kVersion);
  store_le<uint16_t>(h.data() + 6, type);
  store_le<uint32_t>(h.data() + 8, payload_bytes);
  return h;
}

std::vector<uint8_t> encode_pull_request(uint64_t handle, std::span<const uint32_t> indices) {
  const size_t payload_bytes = kPullPayloadFixedBytes + 4 * indices.size();
  std::vector<uint8_t> frame(kRequestHeaderBytes + payload_bytes);
  const RequestHeaderBytes h =
      encode_request_header(static_cast<uint16_t>(RequestType::kPull), static_cast<uint32_t>(payload_bytes));
  std::memcpy(frame.data(), h.data(), h.size());
  uint8_t* p = frame.data() + kRequestHeaderBytes;
  store_le<uint64_t>(p, handle);
  store_le<uint32_t>(p + 8, static_cast<uint32_t>(indices.size()));
  for (size_t i = 0; i < indices.size(); ++i) store_le<uint32_t>(p + kPullPayloadFixedBytes + 4 * i, indices[i]);
  return frame;
}

std::vector<uint8_t> encode_release_request(uint64_t handle) {
  std::vector<uint8_t> frame(kRequestHeaderBytes + kReleasePayloadBytes);
  const RequestHeaderBytes h =
      encode_request_header(static_cast<uint16_t>(RequestType::kRelease), kReleasePayloadBytes);
  std::memcpy(frame.data(), h.data(), h.size());
  store_le<uint64_t>(frame.data() + kRequestHeaderBytes, handle);
  return frame;
}

std::vector<uint8_t> encode_hello_request(std::string_view secret) {
  std::vector<uint8_t> frame(kRequestHeaderBytes + secret.size());
  const RequestHeaderBytes h =
      encode_request_header(static_cast<uint16_t>(RequestType::kHello), static_cast<uint32_t>(secret.size()));
  std::memcpy(frame.data(), h.data(), h.size());
  if (!secret.empty()) std::memcpy(frame.data() + kRequestHeaderBytes, secret.data(), secret.size());
  return frame;
}

Result<std::string> decode_hello_payload(std::span<const uint8_t> payload) {
  if (payload.size() > kMaxHelloPayloadBytes) {
    return invalid_argument("payload_length: HELLO must be at most {}; got {}", kMaxHelloPayloadBytes, payload.size());
  }
  return std::string(payload.begin(), payload.end());
}

Result<RequestHeader> decode_request_header(std::span<const uint8_t, kRequestHeaderBytes> bytes,
                                            uint32_t max_payload_bytes) {
  if (std::memcmp(bytes.data(), kRequestMagic.data(), 4) != 0) {
    return invalid_argument("magic: must be \"PPDK\" (50 50 44 4b); got {}", magic_text(bytes.data()));
  }
  const auto version = load_le<uint16_t>(bytes.data() + 4);
  if (version != kVersion) return invalid_argument("version: must be {}; got {}", kVersion, version);
  const auto type = load_le<uint16_t>(bytes.data() + 6);
  if (type < static_cast<uint16_t>(RequestType::kPull) || type > static_cast<uint16_t>(RequestType::kHello)) {
    return invalid_argument("type: must be 1 (PULL), 2 (RELEASE) or 3 (HELLO); got {}", type);
  }
  const auto payload_bytes = load_le<uint32_t>(bytes.data() + 8);
  if (payload_bytes > max_payload_bytes) {
    return invalid_argument("payload_length: must be <= {}; got {}", max_payload_bytes, payload_bytes);
  }
  return RequestHeader{static_cast<RequestType>(type), payload_bytes};
}

Result<PullPayload> decode_pull_payload(std::span<const uint8_t> payload, uint32_t max_blocks) {
  if (payload.size() < kPullPayloadFixedBytes) {
    return invalid_argument("payload_length: PULL needs at least {} bytes; got {}", kPullPayloadFixedBytes,
                            payload.size());
  }
  PullPayload p;
  p.handle = load_le<uint64_t>(payload.data());
  const auto num_blocks = load_le<uint32_t>(payload.data() + 8);
  if (num_blocks > max_blocks) return invalid_argument("num_blocks: must be <= {}; got {}", max_blocks, num_blocks);
  const size_t expected = kPullPayloadFixedBytes + 4 * size_t{num_blocks};
  if (payload.size() != expected) {
    return invalid_argument("num_blocks: {} needs payload_length {}; got {}", num_blocks, expected, payload.size());
  }
  p.indices.resize(num_blocks);
  for (uint32_t i = 0; i < num_blocks; ++i) p.indices[i] = load_le<uint32_t>(payload.data() + 12 + 4 * i);
  return p;
}

Result<uint64_t> decode_release_payload(std::span<const uint8_t> payload) {
  if (payload.size() != kReleasePayloadBytes) {
    return invalid_argument("payload_length: RELEASE must be {}; got {}", kReleasePayloadBytes, payload.size());
  }
  return load_le<uint64_t>(payload.data());
}

uint16_t block_format_of(Dtype dtype) { return static_cast<uint16_t>(static_cast<int>(dtype) + 1); }

std::string block_format_name(uint16_t format) {
  if (format == 0) return "unsaid";
  for (const Dtype d : {Dtype::kF32, Dtype::kF16, Dtype::kBF16}) {
    if (format == block_format_of(d)) return std::string(dtype_name(d));
  }
  return fmt::format("unknown ({})", format);
}

ResponseHeaderBytes encode_response_header(StatusCode code, uint32_t num_blocks, uint64_t block_bytes,
                                           uint32_t message_bytes, uint16_t block_format) {
  ResponseHeaderBytes h{};
  std::memcpy(h.data(), kResponseMagic.data(), 4);
  store_le<uint16_t>(h.data() + 4, static_cast<uint16_t>(code));
  store_le<uint16_t>(h.data() + 6, block_format);
  store_le<uint32_t>(h.data() + 8, num_blocks);
  store_le<uint64_t>(h.data() + 12, block_bytes);
  store_le<uint32_t>(h.data() + 20, message_bytes);
  return h;
}

Result<ResponseHeader> decode_response_header(std::span<const uint8_t, kResponseHeaderBytes> bytes) {
  if (std::memcmp(bytes.data(), kResponseMagic.data(), 4) != 0) {
    return data_loss("response magic: must be \"PPDR\" (50 50 44 52); got {}", magic_text(bytes.data()));
  }
  const auto code = load_le<uint16_t>(bytes.data() + 4);
  if (code > static_cast<uint16_t>(StatusCode::kUnauthenticated)) {
    return data_loss("response status: must be in [0, {}]; got {}", static_cast<int>(StatusCode::kUnauthenticated),
                     code);
  }
  ResponseHeader h;
  h.code = static_cast<StatusCode>(code);
  h.block_format = load_le<uint16_t>(bytes.data() + 6);
  h.num_blocks = load_le<uint32_t>(bytes.data() + 8);
  h.block_bytes = load_le<uint64_t>(bytes.data() + 12);
  h.message_bytes = load_le<uint32_t>(bytes.data() + 20);
  if (h.message_bytes > kMaxMessageBytes) {
    return data_loss("response message_length: must be <= {}; got {}", kMaxMessageBytes, h.message_bytes);
  }
  return h;
}

BlockHeaderBytes encode_block_header(uint32_t index, uint64_t checksum) {
  BlockHeaderBytes h{};
  store_le<uint32_t>(h.data(), index);
  store_le<uint64_t>(h.data() + 8, checksum);
  return h;
}

BlockHeader decode_block_header(std::span<const uint8_t, kBlockHeaderBytes> bytes) {
  return BlockHeader{load_le<uint32_t>(bytes.data()), load_le<uint64_t>(bytes.data() + 8)};
}

}  // namespace ppd::transfer::wire
