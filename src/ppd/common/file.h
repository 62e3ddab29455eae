// Whole-file reads and read-only memory maps, with errors that name the path.
// MappedFile is move-only; a mapping stays valid until its MappedFile is destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "ppd/common/status.h"

namespace ppd {

// Returns the file's bytes, or NOT_FOUND / DATA_LOSS naming `path`.
Result<std::string> read_file(const std::string& path);

// Writes `data` to `path` atomically (temporary file, then rename).
Status write_file(const std::string& path, std::string_view data);

class MappedFile {
 public:
  // Maps `path` read-only. Returns NOT_FOUND when it does not exist.
  static Result<MappedFile> open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_bytes_}; }
  size_t size_bytes() const { return size_bytes_; }
  const std::string& path() const { return path_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_bytes_ = 0;
  std::string path_;
};

bool file_exists(const std::string& path);

}  // namespace ppd
