#include "ppd/sim/chrome_trace.h"

#include <fmt/format.h>

namespace ppd::sim {
namespace {

// Track (thread) ids: steps of node i on 2i, its KV pulls on 2i + 1.
int step_track(int node) { return 2 * node; }
int pull_track(int node) { return 2 * node + 1; }

std::string us(int64_t ns) { return fmt::format("{}.{:03}", ns / 1000, ns % 1000); }

}  // namespace

ChromeTrace::ChromeTrace(std::ostream* out, std::vector<std::string> node_names) : out_(out) {
  *out_ << "[";
  for (size_t i = 0; i < node_names.size(); ++i) {
    const int node = static_cast<int>(i);
    write(fmt::format(R"({{"name":"thread_name","ph":"M","pid":0,"tid":{},"args":{{"name":"{} steps"}}}})",
                      step_track(node), node_names[i]));
    write(fmt::format(R"({{"name":"thread_name","ph":"M","pid":0,"tid":{},"args":{{"name":"{} KV pulls"}}}})",
                      pull_track(node), node_names[i]));
  }
}

void ChromeTrace::write(const std::string& event) {
  *out_ << (first_ ? "\n" : ",\n") << event;
  first_ = false;
}

void ChromeTrace::on_step(int node, int64_t start_ns, int64_t end_ns, const StepShape& shape) {
  const char* name = shape.prefill_chunks.empty()          ? "decode"
                     : shape.decode_context_tokens.empty() ? "prefill"
                                                           : "mixed";
  write(fmt::format(R"({{"name":"{}","ph":"X","pid":0,"tid":{},"ts":{},"dur":{},"args":{{"decodes":{},)"
                    R"("prefill_tokens":{}}}}})",
                    name, step_track(node), us(start_ns), us(end_ns - start_ns), shape.num_decode_sequences(),
                    shape.num_prefill_tokens()));
}

void ChromeTrace::on_transfer(int node, RequestId id, int64_t start_ns, int64_t end_ns, int64_t bytes) {
  // Pulls overlap, so each is an async slice (begin and end, keyed by the request).
  write(fmt::format(R"({{"name":"pull","cat":"kv","ph":"b","id":{},"pid":0,"tid":{},"ts":{},"args":{{"bytes":{}}}}})",
                    id.value, pull_track(node), us(start_ns), bytes));
  write(fmt::format(R"({{"name":"pull","cat":"kv","ph":"e","id":{},"pid":0,"tid":{},"ts":{}}})", id.value,
                    pull_track(node), us(end_ns)));
}

void ChromeTrace::finish() { *out_ << "\n]\n"; }

}  // namespace ppd::sim
