#include "ppd/loadgen/router_stats.h"

#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "ppd/net/http_client.h"

namespace ppd::loadgen {
namespace {

// "name{a="x",b="y"} 12.5" -> labels "a="x",b="y"" and the value; false when not a sample.
bool split_sample(std::string_view line, std::string_view* name, std::string_view* labels, double* value) {
  if (line.empty() || line.front() == '#') return false;
  const size_t space = line.rfind(' ');
  if (space == std::string_view::npos) return false;
  std::string_view head = line.substr(0, space);
  const std::string_view number = line.substr(space + 1);
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), *value);
  if (ec != std::errc() || end != number.data() + number.size()) return false;
  const size_t brace = head.find('{');
  *name = head.substr(0, brace);
  *labels = brace == std::string_view::npos ? std::string_view() : head.substr(brace);
  return true;
}

bool has_label(std::string_view labels, std::string_view label, std::string_view value) {
  const std::string needle = std::string(label) + "=\"" + std::string(value) + "\"";
  const size_t at = labels.find(needle);
  return at != std::string_view::npos && (labels[at - 1] == '{' || labels[at - 1] == ',');
}

// Calls f(labels, value) for every sample of metric `name` in the exposition text.
template <typename F>
void for_each_sample(std::string_view text, std::string_view name, F f) {
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    std::string_view sample_name, labels;
    double v = 0;
    if (split_sample(line, &sample_name, &labels, &v) && sample_name == name) f(labels, v);
  }
}

// The turn-2+ TTFT prediction errors, per bucket, from the cumulative histogram (summed over paths).
stats::PredictionErrorCounts ttft_prediction_errors(std::string_view text) {
  stats::PredictionErrorCounts cumulative{};
  for_each_sample(text, "ppd:router_prediction_error_ratio_bucket", [&](std::string_view labels, double v) {
    if (!has_label(labels, "quantity", "ttft") || !has_label(labels, "turn", "2+")) return;
    for (size_t i = 0; i < cumulative.size(); ++i) {
      const std::string le = i < stats::kPredictionErrorBounds.size()
                                 ? fmt::format("{}", stats::kPredictionErrorBounds[i])
                                 : std::string("+Inf");
      if (has_label(labels, "le", le)) cumulative[i] += v;
    }
  });
  stats::PredictionErrorCounts counts{};
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = cumulative[i] - (i > 0 ? cumulative[i - 1] : 0);
  return counts;
}

}  // namespace

double sum_samples(std::string_view text, std::string_view name, std::string_view label, std::string_view value) {
  double sum = 0;
  for_each_sample(text, name, [&](std::string_view labels, double v) {
    if (label.empty() || has_label(labels, label, value)) sum += v;
  });
  return sum;
}

std::optional<stats::RouterCounters> parse_router_counters(std::string_view text) {
  if (text.find("# TYPE ppd:router_decisions_total") == std::string_view::npos) return std::nullopt;
  stats::RouterCounters c;
  c.kv_transfer_bytes = sum_samples(text, "ppd:kv_transfer_bytes_total");
  c.local_decisions = sum_samples(text, "ppd:router_decisions_total", "path", "local");
  c.remote_decisions = sum_samples(text, "ppd:router_decisions_total", "path", "remote");
  c.prefix_hit_tokens_local = sum_samples(text, "ppd:prefix_hit_tokens_total", "path", "local");
  c.prefix_hit_tokens_remote = sum_samples(text, "ppd:prefix_hit_tokens_total", "path", "remote");
  c.prompt_tokens = sum_samples(text, "ppd:prompt_tokens_total");
  c.retries = sum_samples(text, "ppd:router_retries_total");
  c.t2_ttft_prediction_errors = ttft_prediction_errors(text);
  return c;
}

std::optional<stats::RouterCounters> fetch_router_counters(const Endpoint& endpoint) {
  net::HttpRequestSpec spec{.host = endpoint.host, .port = endpoint.port, .target = "/metrics", .timeout_ms = 10'000};
  const Result<net::HttpResponse> answer = net::http_request_blocking(std::move(spec));
  if (!answer.ok() || answer->status_code != 200) return std::nullopt;
  return parse_router_counters(answer->body);
}

}  // namespace ppd::loadgen
