// ThreadPool: a fixed set of worker threads for data-parallel loops inside one engine step.
// The calling thread takes part in every loop, so a pool of N threads starts N-1 workers.
// Invariant: at most one parallel_for runs at a time; parallel_for is not reentrant and must
// be called from one thread only (the engine's step thread).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ppd {

class ThreadPool {
 public:
  // REQUIRES: num_threads >= 1.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Splits [0, n) into num_threads() contiguous ranges of near-equal size and calls
  // fn(begin, end) once per non-empty range, in parallel; returns when all calls returned.
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

  // Calls fn(thread_index, num_threads()) on every thread of the pool; returns when all did.
  void run_on_all(const std::function<void(int thread_index, int num_threads)>& fn);

 private:
  void worker_loop(int thread_index);

  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> num_pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace ppd
