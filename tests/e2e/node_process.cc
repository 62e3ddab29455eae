#include "node_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace ppd::testing {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Reads "... http=HOST:PORT kv=HOST:PORT" from the node's ready line.
bool parse_ready_line(const std::string& out, uint16_t* http_port, std::string* kv_address) {
  const size_t http = out.find(" http=");
  const size_t kv = out.find(" kv=", http == std::string::npos ? 0 : http);
  const size_t end = out.find('\n', kv == std::string::npos ? 0 : kv);
  if (http == std::string::npos || kv == std::string::npos || end == std::string::npos) return false;
  const size_t colon = out.rfind(':', kv);
  *http_port = static_cast<uint16_t>(std::stoi(out.substr(colon + 1, kv - colon - 1)));
  *kv_address = out.substr(kv + 4, end - kv - 4);
  return true;
}

template <typename T>
boost::asio::awaitable<std::optional<T>> as_optional(boost::asio::awaitable<T> work) {
  co_return std::optional<T>(co_await std::move(work));
}

template <typename T>
T run_blocking(boost::asio::awaitable<T> work) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, as_optional(std::move(work)), boost::asio::use_future);
  io.run();
  return std::move(*future.get());
}

}  // namespace

NodeProcess::NodeProcess(const std::string& binary, const std::string& args, const std::filesystem::path& dir,
                         const std::string& name)
    : out_(dir / (name + ".out")), err_(dir / (name + ".err")) {
  const std::string cmd =
      "exec '" + binary + "' node --name " + name + " " + args + " >'" + out_.string() + "' 2>'" + err_.string() + "'";
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 6000; ++i) {
    if (parse_ready_line(slurp(out_), &http_port_, &kv_address_)) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "node " << name << " did not start: " << slurp(err_);
}

NodeProcess::~NodeProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 1000; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      // A clean stop exits 0; sanitizer reports and crashes at shutdown do not.
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "node did not stop cleanly: " << stderr_text();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "node did not stop within 10 s of SIGTERM";
  kill_now();
}

void NodeProcess::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string NodeProcess::stderr_text() const { return slurp(err_); }

Result<net::HttpResponse> http_call(uint16_t port, boost::beast::http::verb method, const std::string& target,
                                    const std::string& body, int64_t timeout_ms, const Headers& headers) {
  return run_blocking(net::http_request({.host = "127.0.0.1",
                                         .port = port,
                                         .method = method,
                                         .target = target,
                                         .body = body,
                                         .content_type = "application/json",
                                         .headers = headers,
                                         .timeout_ms = timeout_ms}));
}

Result<net::HttpResponse> http_post_lines(uint16_t port, const std::string& target, const std::string& body,
                                          const std::function<Status(std::string_view)>& on_line, int64_t timeout_ms) {
  return run_blocking(net::http_stream({.host = "127.0.0.1",
                                        .port = port,
                                        .method = boost::beast::http::verb::post,
                                        .target = target,
                                        .body = body,
                                        .content_type = "application/json",
                                        .timeout_ms = timeout_ms},
                                       on_line));
}

StreamedLines http_stream_lines(uint16_t port, const std::string& target, const std::string& body, int64_t timeout_ms,
                                const std::function<void(const nlohmann::json&)>& on_line) {
  StreamedLines r;
  r.response = run_blocking(net::http_stream({.host = "127.0.0.1",
                                              .port = port,
                                              .method = boost::beast::http::verb::post,
                                              .target = target,
                                              .body = body,
                                              .content_type = "application/json",
                                              .timeout_ms = timeout_ms},
                                             [&](std::string_view line) {
                                               r.lines.push_back(nlohmann::json::parse(line, nullptr, false));
                                               if (on_line) on_line(r.lines.back());
                                               return Status::Ok();
                                             }));
  return r;
}

}  // namespace ppd::testing
