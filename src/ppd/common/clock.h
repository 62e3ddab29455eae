// Clock: the one source of time for code that measures or schedules. Real code passes a
// SteadyClock; unit tests pass a FakeClock they advance by hand; the simulator its own.
// SteadyClock is thread-safe; FakeClock is not.
#pragma once

#include <chrono>
#include <cstdint>

namespace ppd {

class Clock {
 public:
  virtual ~Clock() = default;
  // Returns monotonic time in nanoseconds since an arbitrary origin.
  virtual int64_t now_ns() const = 0;
};

class SteadyClock final : public Clock {
 public:
  int64_t now_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ns = 0) : now_ns_(start_ns) {}
  int64_t now_ns() const override { return now_ns_; }
  void advance_ns(int64_t delta_ns) { now_ns_ += delta_ns; }

 private:
  int64_t now_ns_;
};

}  // namespace ppd
