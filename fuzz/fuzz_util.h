// Helpers shared by the fuzz targets: writing an input to a scratch file for readers that take
// a path. Fuzz-only.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace ppd::fuzz {

// A per-process scratch file under /dev/shm (or /tmp), rewritten with each input.
inline const std::string& scratch_path() {
  static const std::string path = [] {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(dir) + "/ppd-fuzz-" + std::to_string(::getpid());
  }();
  return path;
}

inline const std::string& write_scratch(const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(scratch_path().c_str(), "wb");
  if (f != nullptr) {
    if (size > 0) std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  return scratch_path();
}

}  // namespace ppd::fuzz
