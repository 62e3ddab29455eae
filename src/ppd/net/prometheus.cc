#include "ppd/net/prometheus.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "ppd/common/check.h"

namespace ppd::net {
namespace {

bool is_name_char(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         (allow_colon && c == ':');
}

bool is_valid_name(std::string_view name, bool allow_colon) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [allow_colon](char c) { return is_name_char(c, allow_colon); });
}

Status check_label_names(const std::string& metric, const std::vector<std::string>& names) {
  std::set<std::string_view> seen;
  for (const std::string& label : names) {
    if (!is_valid_name(label, false) || label.starts_with("__")) {
      return invalid_argument(
          "metric \"{}\": label name must match [a-zA-Z_][a-zA-Z0-9_]* without a leading "
          "\"__\"; got \"{}\"",
          metric, label);
    }
    if (!seen.insert(label).second) {
      return invalid_argument("metric \"{}\": label names must be unique; got \"{}\" twice", metric, label);
    }
  }
  return Status::Ok();
}

Status check_buckets(const std::string& metric, const std::vector<double>& bounds) {
  if (bounds.empty()) {
    return invalid_argument("metric \"{}\": buckets: need at least one upper bound", metric);
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      return invalid_argument("metric \"{}\": buckets: must be finite (+Inf is implied); got {}", metric, bounds[i]);
    }
    if (i > 0 && bounds[i] <= bounds[i - 1]) {
      return invalid_argument("metric \"{}\": buckets: must be strictly increasing; got {} after {}", metric, bounds[i],
                              bounds[i - 1]);
    }
  }
  return Status::Ok();
}

// Prometheus number syntax: shortest round-trip decimal, "+Inf", "-Inf", "NaN".
std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

// Escapes `text` for a HELP line (backslash, newline) or a label value (also '"').
std::string escape(std::string_view text, bool is_label_value) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && is_label_value) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

void render_child(std::string& out, const std::string& series, const Counter& counter) {
  out += fmt::format("{} {}\n", series, format_number(counter.value()));
}

void render_child(std::string& out, const std::string& series, const Gauge& gauge) {
  out += fmt::format("{} {}\n", series, format_number(gauge.value()));
}

}  // namespace

void Counter::inc(double amount) {
  PPD_CHECK(amount >= 0);
  value_.fetch_add(amount, std::memory_order_relaxed);
}

Histogram::Histogram(const std::vector<double>* upper_bounds)
    : upper_bounds_(upper_bounds), bucket_counts_(upper_bounds->size() + 1, 0) {}

void Histogram::observe(double value) {
  auto it = std::lower_bound(upper_bounds_->begin(), upper_bounds_->end(), value);
  size_t bucket = static_cast<size_t>(it - upper_bounds_->begin());
  std::lock_guard lock(mutex_);
  ++bucket_counts_[bucket];
  sum_ += value;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (uint64_t count : bucket_counts_) {
    total += count;
    snapshot.cumulative_counts.push_back(total);
  }
  snapshot.sum = sum_;
  return snapshot;
}

MetricFamilyBase::MetricFamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

std::string MetricFamilyBase::series(std::string_view suffix, const std::vector<std::string>& label_values,
                                     std::string_view extra_label) const {
  std::string out = name_;
  out += suffix;
  if (label_names_.empty() && extra_label.empty()) return out;
  out += '{';
  for (size_t i = 0; i < label_names_.size(); ++i) {
    if (i > 0) out += ',';
    out += fmt::format("{}=\"{}\"", label_names_[i], escape(label_values[i], true));
  }
  if (!extra_label.empty()) {
    if (!label_names_.empty()) out += ',';
    out += extra_label;
  }
  out += '}';
  return out;
}

void MetricFamilyBase::render_header(std::string& out, std::string_view type) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, escape(help_, false), name_, type);
}

template <typename Metric>
Metric& MetricFamily<Metric>::with(const std::vector<std::string>& label_values) {
  PPD_CHECK(label_values.size() == label_names_.size());
  std::lock_guard lock(mutex_);
  std::unique_ptr<Metric>& child = children_[label_values];
  if (!child) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      child = std::make_unique<Histogram>(&upper_bounds_);
    } else {
      child = std::make_unique<Metric>();
    }
  }
  return *child;
}

template <typename Metric>
void MetricFamily<Metric>::render(std::string& out) const {
  constexpr std::string_view kType = std::is_same_v<Metric, Counter> ? "counter"
                                     : std::is_same_v<Metric, Gauge> ? "gauge"
                                                                     : "histogram";
  render_header(out, kType);
  std::lock_guard lock(mutex_);
  for (const auto& [label_values, child] : children_) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      Histogram::Snapshot snapshot = child->snapshot();
      for (size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
        double bound = i < upper_bounds_.size() ? upper_bounds_[i] : INFINITY;
        std::string le = fmt::format("le=\"{}\"", format_number(bound));
        out += fmt::format("{} {}\n", series("_bucket", label_values, le), snapshot.cumulative_counts[i]);
      }
      out += fmt::format("{} {}\n", series("_sum", label_values, ""), format_number(snapshot.sum));
      out += fmt::format("{} {}\n", series("_count", label_values, ""), snapshot.cumulative_counts.back());
    } else {
      render_child(out, series("", label_values, ""), *child);
    }
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

Status MetricsRegistry::check_new_name(const std::string& name) const {
  if (!is_valid_name(name, true)) {
    return invalid_argument("metric name: must match [a-zA-Z_:][a-zA-Z0-9_:]*; got \"{}\"", name);
  }
  for (const auto& family : families_) {
    if (family->name() == name) {
      return invalid_argument("metric name: \"{}\" is already registered", name);
    }
  }
  return Status::Ok();
}

Result<CounterFamily*> MetricsRegistry::counter(std::string name, std::string help,
                                                std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  PPD_RETURN_IF_ERROR(check_new_name(name));
  PPD_RETURN_IF_ERROR(check_label_names(name, label_names));
  auto family = std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names));
  CounterFamily* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

Result<GaugeFamily*> MetricsRegistry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  PPD_RETURN_IF_ERROR(check_new_name(name));
  PPD_RETURN_IF_ERROR(check_label_names(name, label_names));
  auto family = std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(label_names));
  GaugeFamily* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

Result<HistogramFamily*> MetricsRegistry::histogram(std::string name, std::string help,
                                                    std::vector<std::string> label_names,
                                                    std::vector<double> upper_bounds) {
  std::lock_guard lock(mutex_);
  PPD_RETURN_IF_ERROR(check_new_name(name));
  PPD_RETURN_IF_ERROR(check_label_names(name, label_names));
  if (std::find(label_names.begin(), label_names.end(), "le") != label_names.end()) {
    return invalid_argument("metric \"{}\": label name \"le\" is reserved for histogram buckets", name);
  }
  PPD_RETURN_IF_ERROR(check_buckets(name, upper_bounds));
  auto family = std::make_unique<HistogramFamily>(std::move(name), std::move(help), std::move(label_names),
                                                  std::move(upper_bounds));
  HistogramFamily* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

std::string MetricsRegistry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& family : families_) family->render(out);
  return out;
}

}  // namespace ppd::net
