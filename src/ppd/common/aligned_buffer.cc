#include "ppd/common/aligned_buffer.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace ppd {
namespace {

constexpr size_t kAlignmentBytes = 64;
constexpr size_t kHugePageBytes = size_t{2} << 20;

}  // namespace

AlignedBuffer::AlignedBuffer(size_t num_floats) : size_(num_floats) {
  if (num_floats == 0) return;
  const size_t num_bytes = num_floats * sizeof(float);
  const size_t alignment = num_bytes >= kHugePageBytes ? kHugePageBytes : kAlignmentBytes;
  const size_t num_allocated_bytes = (num_bytes + alignment - 1) / alignment * alignment;
  void* memory = std::aligned_alloc(alignment, num_allocated_bytes);
  if (memory == nullptr) throw std::bad_alloc();
  if (alignment == kHugePageBytes) ::madvise(memory, num_allocated_bytes, MADV_HUGEPAGE);  // a hint
  std::memset(memory, 0, num_bytes);
  data_.reset(static_cast<float*>(memory));
}

void AlignedBuffer::Free::operator()(float* p) const { std::free(p); }

}  // namespace ppd
