#include "ppd/common/aligned_buffer.h"

#include <cstdlib>
#include <cstring>

#include "ppd/common/huge_pages.h"

namespace ppd {

AlignedBuffer::AlignedBuffer(size_t num_floats) : size_(num_floats) {
  if (num_floats == 0) return;
  const size_t num_bytes = num_floats * sizeof(float);
  void* memory = allocate_maybe_huge(num_bytes, /*alignment=*/64, /*huge_from_bytes=*/kHugePageBytes);
  std::memset(memory, 0, num_bytes);
  data_.reset(static_cast<float*>(memory));
}

void AlignedBuffer::Free::operator()(float* p) const { free_maybe_huge(p); }

}  // namespace ppd
