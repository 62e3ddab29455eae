#include "ppd/launch/up_plan.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace ppd::launch {
namespace {

constexpr int kMaxNodeThreads = 256;
constexpr int64_t kFirstRestartDelayMs = 1000;
constexpr int64_t kMaxRestartDelayMs = 30'000;

// Sets the value after `flag` in argv, if the flag is there.
void set_flag_value(std::vector<std::string>* argv, std::string_view flag, std::string value) {
  const auto it = std::find(argv->begin(), argv->end(), flag);
  if (it != argv->end() && it + 1 != argv->end()) *(it + 1) = std::move(value);
}

// "7001" from "127.0.0.1:7001" (the text after the last ':').
std::string port_of(std::string_view address) { return std::string(address.substr(address.rfind(':') + 1)); }

void append_flags(std::vector<std::string>* argv, std::string_view flags) {
  for (std::string& flag : split_flags(flags)) argv->push_back(std::move(flag));
}

ChildPlan plan_node(const UpOptions& o, const std::string& binary, const std::string& model_dir, ChildRole role,
                    int index) {
  const bool decode = role == ChildRole::kDecode;
  ChildPlan plan{.name = fmt::format("{}-{}", decode ? "decode" : "prefill", index), .role = role};
  const int num_nodes = o.num_prefill + o.num_decode;
  plan.argv = {binary,           "node",
               "--role",         decode ? "decode" : "prefill",
               "--model",        model_dir,
               "--name",         plan.name,
               "--host",         o.node_host,
               "--port",         "0",
               "--kv-port",      "0",
               "--threads",      std::to_string(threads_per_node(o.num_threads, num_nodes)),
               "--kv-cache-mib", std::to_string(o.kv_cache_mib),
               "--block-size",   std::to_string(o.block_size)};
  if (o.dtype != "auto") plan.argv.insert(plan.argv.end(), {"--dtype", o.dtype});
  if (o.quantize != "none") plan.argv.insert(plan.argv.end(), {"--quantize", o.quantize});
  if (o.kv_dtype != "auto") plan.argv.insert(plan.argv.end(), {"--kv-dtype", o.kv_dtype});
  // Only decode nodes pull KV, so only they get the emulated link.
  if (decode && o.link_bytes_per_s > 0) {
    plan.argv.insert(plan.argv.end(), {"--link-bytes-per-s", fmt::format("{}", o.link_bytes_per_s)});
  }
  if (decode && o.link_latency_us > 0) {
    plan.argv.insert(plan.argv.end(), {"--link-latency-us", std::to_string(o.link_latency_us)});
  }
  if (!o.cluster_secret_file.empty())
    plan.argv.insert(plan.argv.end(), {"--cluster-secret-file", o.cluster_secret_file});
  append_flags(&plan.argv, o.node_flags);
  return plan;
}

}  // namespace

int threads_per_node(int num_threads, int num_nodes) {
  return std::clamp(num_threads / std::max(num_nodes, 1), 1, kMaxNodeThreads);
}

std::vector<std::string> split_flags(std::string_view flags) {
  std::vector<std::string> words;
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  size_t begin = flags.find_first_not_of(kSpace);
  while (begin != std::string_view::npos) {
    const size_t end = std::min(flags.find_first_of(kSpace, begin), flags.size());
    words.emplace_back(flags.substr(begin, end - begin));
    begin = flags.find_first_not_of(kSpace, end);
  }
  return words;
}

std::vector<ChildPlan> plan_nodes(const UpOptions& options, const std::string& binary, const std::string& model_dir) {
  std::vector<ChildPlan> plans;
  for (int i = 0; i < options.num_prefill; ++i) {
    plans.push_back(plan_node(options, binary, model_dir, ChildRole::kPrefill, i));
  }
  for (int i = 0; i < options.num_decode; ++i) {
    plans.push_back(plan_node(options, binary, model_dir, ChildRole::kDecode, i));
  }
  return plans;
}

ChildPlan plan_router(const UpOptions& options, const std::string& binary, const std::string& model_dir,
                      const RouterTargets& targets) {
  ChildPlan plan{.name = "router", .role = ChildRole::kRouter, .argv = {binary, "router", "--model", model_dir}};
  if (!targets.prefill.empty()) {
    plan.argv.insert(plan.argv.end(), {"--prefill", fmt::format("{}", fmt::join(targets.prefill, ","))});
  }
  plan.argv.insert(plan.argv.end(), {"--decode", fmt::format("{}", fmt::join(targets.decode, ",")), "--policy",
                                     options.policy, "--host", options.host, "--port", std::to_string(options.port)});
  if (!options.api_key_file.empty()) plan.argv.insert(plan.argv.end(), {"--api-key-file", options.api_key_file});
  if (!options.cluster_secret_file.empty()) {
    plan.argv.insert(plan.argv.end(), {"--cluster-secret-file", options.cluster_secret_file});
  }
  append_flags(&plan.argv, options.router_flags);
  return plan;
}

int64_t restart_delay_ms(int restart) {
  int64_t delay_ms = kFirstRestartDelayMs;
  for (int i = 1; i < restart && delay_ms < kMaxRestartDelayMs; ++i) delay_ms *= 2;
  return std::min(delay_ms, kMaxRestartDelayMs);
}

Result<ChildPlan> pin_ports(ChildPlan plan, std::string_view ready_line) {
  PPD_ASSIGN_OR_RETURN(const std::string http, ready_line_value(ready_line, "http"));
  set_flag_value(&plan.argv, "--port", port_of(http));
  if (const Result<std::string> kv = ready_line_value(ready_line, "kv"); kv.ok()) {
    set_flag_value(&plan.argv, "--kv-port", port_of(*kv));
  }
  return plan;
}

Result<std::string> ready_line_value(std::string_view line, std::string_view key) {
  for (const std::string& word : split_flags(line)) {
    if (word.size() > key.size() + 1 && word.starts_with(key) && word[key.size()] == '=') {
      return word.substr(key.size() + 1);
    }
  }
  return invalid_argument("ready line: no non-empty {}= value; got \"{}\"", key, line);
}

}  // namespace ppd::launch
