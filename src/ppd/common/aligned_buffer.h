// AlignedBuffer: an owned, zero-filled float array, 64-byte aligned; arrays of 2 MiB or more
// are aligned to 2 MiB and advised as transparent huge pages, because the engine streams
// them at memory bandwidth and 4 KiB pages would cost a TLB miss every 4 KiB.
// Move-only; not thread-safe to resize (it never resizes).
#pragma once

#include <cstddef>
#include <memory>

namespace ppd {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t num_floats);  // zero-filled
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> data_;
  size_t size_ = 0;
};

}  // namespace ppd
