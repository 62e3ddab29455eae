// Memory for large arrays that are streamed or read at random: from a size threshold on it is
// aligned to 2 MiB and advised as transparent huge pages, so that one TLB entry covers 2 MiB
// instead of 4 KiB. Streaming the engine's weights would otherwise miss the TLB every 4 KiB,
// and every lookup in a hash table of a few MiB (the prefix caches) would miss it too.
#pragma once

#include <cstddef>
#include <new>

namespace ppd {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// `num_bytes` (> 0) aligned to `alignment` (a power of two, <= 2 MiB); from `huge_from_bytes`
// on, 2 MiB-aligned, rounded up to whole huge pages and advised as such (a hint the kernel
// may ignore). Throws std::bad_alloc. Release with free_maybe_huge.
void* allocate_maybe_huge(size_t num_bytes, size_t alignment, size_t huge_from_bytes);
void free_maybe_huge(void* p) noexcept;

// A std::allocator for the big tables of hash indexes: arrays of 1 MiB or more get huge pages.
template <class T>
class HugePageAllocator {
 public:
  using value_type = T;
  static constexpr size_t kHugeFromBytes = size_t{1} << 20;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)

  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    const size_t bytes = n == 0 ? sizeof(T) : n * sizeof(T);
    return static_cast<T*>(allocate_maybe_huge(bytes, alignof(T) < 16 ? 16 : alignof(T), kHugeFromBytes));
  }
  void deallocate(T* p, size_t /*n*/) noexcept { free_maybe_huge(p); }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

}  // namespace ppd
