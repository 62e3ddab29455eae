#include "router_process.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "ppd/launch/up_plan.h"

namespace ppd::testing {

using boost::beast::http::verb;

PpdProcess::PpdProcess(std::vector<std::string> args, const std::string& ready_prefix, const std::filesystem::path& dir,
                       const std::string& name) {
  args.insert(args.begin(), PPD_BINARY);
  Result<std::unique_ptr<launch::ChildProcess>> child =
      launch::ChildProcess::spawn({.argv = std::move(args), .stderr_path = (dir / (name + ".log")).string()});
  if (!child.ok()) {
    ADD_FAILURE() << name << ": " << child.status().message();
    return;
  }
  child_ = std::move(*child);
  Result<std::string> line = child_->wait_for_line(ready_prefix, 120'000);
  if (!line.ok()) {
    ADD_FAILURE() << name << ": " << line.status().message();
    return;
  }
  Result<std::string> http = launch::ready_line_value(*line, "http");
  Result<net::HostPort> hp = http.ok() ? net::parse_host_port(*http) : Result<net::HostPort>(http.status());
  if (!hp.ok()) {
    ADD_FAILURE() << name << ": bad ready line \"" << *line << "\": " << hp.status().message();
    return;
  }
  http_port_ = hp->port;
}

PpdProcess::~PpdProcess() {
  if (!child_ || child_->poll_exit()) return;
  const int status = child_->terminate(20'000);
  EXPECT_EQ(status, 0) << "did not stop cleanly: " << child_->stderr_tail(30);
}

nlohmann::json chat_body(const std::vector<std::pair<std::string, std::string>>& messages, int max_tokens,
                         bool stream) {
  nlohmann::json m = nlohmann::json::array();
  for (const auto& [role, content] : messages) m.push_back({{"role", role}, {"content", content}});
  nlohmann::json body = {{"model", "tinystories-656k"},
                         {"messages", m},
                         {"max_tokens", max_tokens},
                         {"temperature", 0},
                         {"ignore_eos", true}};
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  return body;
}

SseResult post_sse(uint16_t port, const std::string& target, const nlohmann::json& body,
                   const std::function<bool(const SseResult&)>& after_event) {
  SseResult r;
  r.response = http_post_lines(port, target, body.dump(), [&](std::string_view line) -> Status {
    if (!line.starts_with("data: ")) return Status::Ok();
    const std::string_view payload = line.substr(6);
    if (payload == "[DONE]") {
      r.done = true;
      return Status::Ok();
    }
    r.events.push_back(nlohmann::json::parse(payload, nullptr, false));
    if (after_event && !after_event(r)) return Status(StatusCode::kCancelled, "the client left");
    return Status::Ok();
  });
  return r;
}

std::string sse_text(const SseResult& r) {
  std::string text;
  for (const nlohmann::json& e : r.events) {
    if (!e.contains("choices") || e["choices"].empty()) continue;
    const nlohmann::json& delta = e["choices"][0]["delta"];
    if (delta.contains("content")) text += delta["content"].get<std::string>();
  }
  return text;
}

std::string tinystories() {
  const char* shared = std::getenv("PPD_SHARED_DIR");
  return shared == nullptr ? "" : std::string(shared) + "/models/tinystories-656k";
}

nlohmann::json post_json(uint16_t port, const std::string& target, const nlohmann::json& body, int* status) {
  Result<net::HttpResponse> r = http_call(port, verb::post, target, body.dump(), 120'000);
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return {};
  if (status != nullptr) *status = static_cast<int>(r->status_code);
  return nlohmann::json::parse(r->body, nullptr, false);
}

// Waits until the router reports every node healthy.
void wait_healthy(uint16_t router_port, size_t num_nodes) {
  for (int i = 0; i < 600; ++i) {
    Result<net::HttpResponse> r = http_call(router_port, verb::get, "/health");
    if (r.ok() && r->status_code == 200) {
      const nlohmann::json h = nlohmann::json::parse(r->body);
      size_t healthy = 0;
      for (const auto& n : h["nodes"]) healthy += n["healthy"].get<bool>() ? 1 : 0;
      if (healthy == num_nodes) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "router did not see " << num_nodes << " healthy nodes within 30 s";
}

pid_t child_named(pid_t parent, const std::string& name) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid_text = entry.path().filename().string();
    if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string stat_line;
    std::getline(stat, stat_line);
    // pid (comm) state ppid ...: the ppid is the second word after the last ')'.
    std::istringstream after(stat_line.substr(stat_line.rfind(')') + 1));
    std::string state;
    pid_t ppid = -1;
    after >> state >> ppid;
    if (ppid != parent) continue;
    std::ifstream cmdline_file(entry.path() / "cmdline");
    const std::string cmdline((std::istreambuf_iterator<char>(cmdline_file)), std::istreambuf_iterator<char>());
    if (cmdline.find(std::string("--name") + '\0' + name + '\0') != std::string::npos) return std::stoi(pid_text);
  }
  return -1;
}

}  // namespace ppd::testing
