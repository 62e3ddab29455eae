#include "ppd/microbench/bench_util.h"

#include <algorithm>

namespace ppd::microbench {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<TokenId> bench_prompt(int n, int vocab, uint32_t seed) {
  std::vector<TokenId> t(static_cast<size_t>(n));
  uint32_t x = seed * 2654435761u + 1;
  for (auto& v : t) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<TokenId>(3 + (x >> 8) % static_cast<uint32_t>(vocab - 3));
  }
  return t;
}

request::SamplingParams fixed_output(int n) {
  request::SamplingParams p;
  p.temperature = 0;
  p.max_tokens = n;
  p.ignore_eos = true;
  return p;
}

}  // namespace ppd::microbench
