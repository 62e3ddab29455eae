// Node processes for process-level tests: starts `ppd node` with the given flags, waits for
// its "ready" line and reads both ports from it; kills it (SIGKILL, to play a dying node)
// or stops it (SIGTERM) on request and always on destruction. Plus blocking HTTP helpers
// over ppd::net for the test thread. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ppd/common/status.h"
#include "ppd/net/http_client.h"

namespace ppd::testing {

class NodeProcess {
 public:
  // Starts `ppd node <args>`; stdout and stderr go to files in `dir`. Fails the test when
  // it does not print its ready line within 60 s.
  NodeProcess(const std::string& binary, const std::string& args, const std::filesystem::path& dir,
              const std::string& name);
  ~NodeProcess();

  uint16_t http_port() const { return http_port_; }
  std::string kv_address() const { return kv_address_; }
  void kill_now();  // SIGKILL and reap
  std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path out_;
  std::filesystem::path err_;
  uint16_t http_port_ = 0;
  std::string kv_address_;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// One blocking HTTP exchange on 127.0.0.1:port (own io_context).
Result<net::HttpResponse> http_call(uint16_t port, boost::beast::http::verb method, const std::string& target,
                                    const std::string& body = "", int64_t timeout_ms = 60'000,
                                    const Headers& headers = {});
// POSTs and hands each line of a 2xx streamed answer to `on_line` as it arrives (a non-OK
// return aborts the exchange); a non-2xx answer is returned whole.
Result<net::HttpResponse> http_post_lines(uint16_t port, const std::string& target, const std::string& body,
                                          const std::function<Status(std::string_view)>& on_line,
                                          int64_t timeout_ms = 60'000);
// POSTs and collects the NDJSON lines of a streamed answer.
struct StreamedLines {
  Result<net::HttpResponse> response = Status::Ok();
  std::vector<nlohmann::json> lines;
};
// `on_line` (optional) sees each line as it arrives.
StreamedLines http_stream_lines(uint16_t port, const std::string& target, const std::string& body,
                                int64_t timeout_ms = 60'000,
                                const std::function<void(const nlohmann::json&)>& on_line = nullptr);

}  // namespace ppd::testing
