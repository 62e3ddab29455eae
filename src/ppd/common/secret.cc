#include "ppd/common/secret.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace ppd {
namespace {

constexpr std::string_view kSpace = " \t\r\n";

std::string_view trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

Status check_length(std::string_view secret, std::string_view what) {
  if (secret.size() < kMinSecretBytes || secret.size() > kMaxSecretBytes) {
    return invalid_argument("{}: the secret must be {} to {} bytes; got {}", what, kMinSecretBytes, kMaxSecretBytes,
                            secret.size());
  }
  return Status::Ok();
}

void fill_random(void* data, size_t size) {
  auto* bytes = static_cast<uint8_t*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::getrandom(bytes + done, size - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::abort();  // no kernel randomness: nothing safe to fall back to
    done += static_cast<size_t>(n);
  }
}

}  // namespace

Result<std::string> read_secret_file(const std::string& path, std::string_view what) {
  std::ifstream in(path);
  if (!in) return invalid_argument("{}: cannot read \"{}\": {}", what, path, std::strerror(errno));
  std::string line(kMaxSecretBytes + 2, '\0');
  in.getline(line.data(), static_cast<std::streamsize>(line.size()));
  line.resize(std::strlen(line.c_str()));
  const std::string secret(trim(line));
  PPD_RETURN_IF_ERROR(check_length(secret, fmt::format("{} \"{}\"", what, path)));
  return secret;
}

Result<std::string> load_cluster_secret(const std::string& file) {
  if (!file.empty()) return read_secret_file(file, "--cluster-secret-file");
  const char* env = std::getenv(std::string(kClusterSecretEnv).c_str());
  if (env == nullptr || *env == '\0') return std::string();
  const std::string secret(trim(env));
  PPD_RETURN_IF_ERROR(check_length(secret, kClusterSecretEnv));
  return secret;
}

std::string generate_secret() {
  std::array<uint8_t, 32> bytes;
  fill_random(bytes.data(), bytes.size());
  std::string hex;
  for (uint8_t b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

uint64_t random_u64() {
  uint64_t value = 0;
  fill_random(&value, sizeof value);
  return value;
}

bool secret_equals(std::string_view expected, std::string_view given) {
  unsigned diff = expected.size() == given.size() ? 0u : 1u;
  for (size_t i = 0; i < expected.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff |= static_cast<unsigned char>(expected[i] ^ g);
  }
  return diff == 0;
}

bool bearer_matches(std::string_view secret, std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) return secret_equals(secret, std::string_view());
  return secret_equals(secret, authorization.substr(kBearer.size()));
}

}  // namespace ppd
