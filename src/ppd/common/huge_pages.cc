#include "ppd/common/huge_pages.h"

#include <sys/mman.h>

#include <cstdlib>

namespace ppd {

void* allocate_maybe_huge(size_t num_bytes, size_t alignment, size_t huge_from_bytes) {
  const bool huge = num_bytes >= huge_from_bytes;
  if (huge) alignment = kHugePageBytes;
  // aligned_alloc wants a size that is a multiple of the alignment.
  const size_t num_allocated_bytes = (num_bytes + alignment - 1) / alignment * alignment;
  void* memory = std::aligned_alloc(alignment, num_allocated_bytes);
  if (memory == nullptr) throw std::bad_alloc();
  if (huge) ::madvise(memory, num_allocated_bytes, MADV_HUGEPAGE);  // a hint: its result does not matter
  return memory;
}

void free_maybe_huge(void* p) noexcept { std::free(p); }

}  // namespace ppd
