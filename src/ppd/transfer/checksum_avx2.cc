// XXH3-64 built for AVX2 (only this file is compiled with -mavx2); block_checksum() picks it
// at run time when the CPU has AVX2. XXH3 gives the same value whatever the vector width.
#include <cstddef>
#include <cstdint>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ppd::transfer::avx2 {

uint64_t xxh3_64(const uint8_t* data, size_t size) { return XXH3_64bits(data, size); }

}  // namespace ppd::transfer::avx2
