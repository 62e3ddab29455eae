// Secrets: the cluster secret that nodes and routers share, API keys, and unguessable ids.
// A secret never comes from the command line (where `ps` shows it): it is read from a file
// (its first line, surrounding whitespace dropped) or from an environment variable. Random
// values come from the kernel's CSPRNG (getrandom). Pure apart from the reads; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ppd/common/status.h"

namespace ppd {

// The environment variable every ppd process reads the cluster secret from when no
// --cluster-secret-file is given.
inline constexpr std::string_view kClusterSecretEnv = "PPD_CLUSTER_SECRET";
inline constexpr size_t kMinSecretBytes = 16;
inline constexpr size_t kMaxSecretBytes = 1024;

// Reads a secret from `path`: its first line, trimmed. `what` names it in errors (the flag).
// INVALID_ARGUMENT when the file cannot be read, is empty, or the secret is shorter than
// kMinSecretBytes or longer than kMaxSecretBytes; never puts the secret in a message.
Result<std::string> read_secret_file(const std::string& path, std::string_view what);

// The cluster secret: read_secret_file(file) when `file` is set, else $PPD_CLUSTER_SECRET
// (same length rules), else "" (no secret: internal endpoints are open, as on a laptop).
Result<std::string> load_cluster_secret(const std::string& file);

// 32 random bytes as 64 lowercase hex digits.
std::string generate_secret();
// A random 64-bit value (e.g. a handle id nobody can guess).
uint64_t random_u64();

// Compares in time that depends only on the lengths, not on where the strings differ.
bool secret_equals(std::string_view expected, std::string_view given);

// True when `authorization` (an Authorization header's value, or "" when absent) is
// "Bearer <secret>", compared with secret_equals.
bool bearer_matches(std::string_view secret, std::string_view authorization);

}  // namespace ppd
