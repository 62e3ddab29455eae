// Test support for the router's process-level tests: a `ppd` child process (node, router or
// up) started with its flags, its ready line's http= port read; OpenAI requests over HTTP
// (whole or as SSE events). Built on launch::ChildProcess. Test-only; not thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "node_process.h"
#include "ppd/launch/child_process.h"

namespace ppd::testing {

class PpdProcess {
 public:
  // Runs `ppd <args>` with stderr in <dir>/<name>.log and waits up to 120 s for the stdout
  // line starting with `ready_prefix`; fails the test otherwise.
  PpdProcess(std::vector<std::string> args, const std::string& ready_prefix, const std::filesystem::path& dir,
             const std::string& name);
  ~PpdProcess();  // SIGTERM; expects a clean exit within 20 s
  uint16_t http_port() const { return http_port_; }
  std::string http_address() const { return "127.0.0.1:" + std::to_string(http_port_); }
  void kill_now() { child_->kill_now(); }
  pid_t pid() const { return child_ ? child_->pid() : -1; }
  bool running() { return child_ && !child_->poll_exit().has_value(); }
  bool started() const { return http_port_ != 0; }
  std::string log() const { return child_ ? child_->stderr_tail(40) : ""; }

 private:
  std::unique_ptr<launch::ChildProcess> child_;
  uint16_t http_port_ = 0;
};

// A chat request body.
nlohmann::json chat_body(const std::vector<std::pair<std::string, std::string>>& messages, int max_tokens,
                         bool stream = false);

// SSE events of a streamed answer: each "data: " payload parsed ("[DONE]" kept as a string).
struct SseResult {
  Result<net::HttpResponse> response = Status::Ok();
  std::vector<nlohmann::json> events;
  bool done = false;  // "data: [DONE]" arrived
};
// `after_event` (optional) runs after each event is stored, e.g. to kill a node mid-stream;
// returning false drops the connection (a client that leaves).
SseResult post_sse(uint16_t port, const std::string& target, const nlohmann::json& body,
                   const std::function<bool(const SseResult&)>& after_event = nullptr);
// The text of a chat answer's events (the "delta.content" pieces joined).
std::string sse_text(const SseResult& r);

// TinyStories-656K under $PPD_SHARED_DIR; "" when that is unset.
std::string tinystories();
// POSTs `body` as JSON (120 s deadline) and parses the answer; *status gets the HTTP status.
nlohmann::json post_json(uint16_t port, const std::string& target, const nlohmann::json& body, int* status = nullptr);
// Waits up to 30 s until the router at `router_port` reports `num_nodes` healthy nodes.
void wait_healthy(uint16_t router_port, size_t num_nodes);

// The pid of the child of `parent` whose command line has the words "--name <name>"; -1 if none.
pid_t child_named(pid_t parent, const std::string& name);

}  // namespace ppd::testing
