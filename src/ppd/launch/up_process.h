// UpProcess: a whole `ppd up` cluster run as one child process of this binary, as `ppd bench
// compare` runs one per point. Ready once the child prints its "ppd up ready" line; stopped
// (SIGTERM, then SIGKILL after a grace period) when destroyed. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ppd/common/status.h"
#include "ppd/launch/child_process.h"

namespace ppd::launch {

struct UpProcessOptions {
  std::vector<std::string> up_flags;   // the flags after `ppd up`
  std::string log_dir;                 // the child's up.log and the cluster's --log-dir
  int64_t ready_timeout_ms = 300'000;  // for the ready line
  int64_t stop_grace_ms = 30'000;      // between SIGTERM and SIGKILL
};

class UpProcess {
 public:
  // Starts `ppd up` and waits for its ready line. Errors: the binary, the spawn, or the child
  // exiting or staying silent past ready_timeout_ms (with the tail of its log).
  static Result<std::unique_ptr<UpProcess>> start(UpProcessOptions options);
  ~UpProcess();
  UpProcess(const UpProcess&) = delete;
  UpProcess& operator=(const UpProcess&) = delete;

  // The router's address, host:port, from the ready line's http= field.
  const std::string& http_address() const { return http_address_; }

 private:
  UpProcess() = default;
  std::unique_ptr<ChildProcess> child_;
  std::string http_address_;
  int64_t stop_grace_ms_ = 0;
};

}  // namespace ppd::launch
