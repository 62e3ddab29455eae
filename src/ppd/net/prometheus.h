// Prometheus metrics: a MetricsRegistry (passed in, never global) owns families of counters,
// gauges and histograms; family.with({label values}) returns the child for those values,
// created at zero and stable for the registry's lifetime. render() writes the text
// exposition format 0.0.4 (HELP, TYPE, _bucket{le=...}, _sum, _count). Thread-safe:
// updates are atomic or under a per-histogram mutex, and may race with render().
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::net {

// The Content-Type for render()'s output.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

class Counter {
 public:
  // REQUIRES: amount >= 0 (a counter never decreases). Mutates.
  void inc(double amount = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void inc(double amount = 1.0) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void dec(double amount = 1.0) { value_.fetch_add(-amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `upper_bounds` are the finite bucket bounds, strictly increasing; +Inf is implied.
  explicit Histogram(const std::vector<double>* upper_bounds);
  // Counts `value` in the first bucket whose bound is >= value, and in _sum. Mutates.
  void observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative_counts;  // [num upper bounds + 1], the last is +Inf
    double sum = 0.0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double>* upper_bounds_;  // owned by the family
  mutable std::mutex mutex_;
  std::vector<uint64_t> bucket_counts_;  // not cumulative; [num upper bounds + 1]
  double sum_ = 0.0;
};

enum class MetricType { kCounter, kGauge, kHistogram };

// What every family shares; the registry renders families through it.
class MetricFamilyBase {
 public:
  virtual ~MetricFamilyBase() = default;
  const std::string& name() const { return name_; }
  // Appends this family's HELP, TYPE and sample lines to `out`.
  virtual void render(std::string& out) const = 0;

 protected:
  MetricFamilyBase(std::string name, std::string help, std::vector<std::string> label_names);
  // `name{a="x",b="y"<extra>}` or `name` when there are no labels; values escaped.
  std::string series(std::string_view suffix, const std::vector<std::string>& label_values,
                     std::string_view extra_label) const;
  void render_header(std::string& out, std::string_view type) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

template <typename Metric>
class MetricFamily final : public MetricFamilyBase {
 public:
  MetricFamily(std::string name, std::string help, std::vector<std::string> label_names,
               std::vector<double> upper_bounds = {})
      : MetricFamilyBase(std::move(name), std::move(help), std::move(label_names)),
        upper_bounds_(std::move(upper_bounds)) {}

  // Returns the child for `label_values`, creating it at zero. The reference stays valid
  // for the registry's lifetime. REQUIRES: one value per label name (checked). Thread-safe.
  Metric& with(const std::vector<std::string>& label_values);
  void render(std::string& out) const override;

 private:
  std::vector<double> upper_bounds_;  // histograms only
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

class MetricsRegistry {
 public:
  // Each registers a family and returns it (owned by the registry), or INVALID_ARGUMENT
  // naming the rule: names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
  // [a-zA-Z_][a-zA-Z0-9_]* without a leading "__" and without repeats, a name is
  // registered once; histograms may not use the label "le" and need finite, strictly
  // increasing `upper_bounds` (at least one). Thread-safe.
  Result<CounterFamily*> counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Result<GaugeFamily*> gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  Result<HistogramFamily*> histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                     std::vector<double> upper_bounds);

  // The text exposition of every family in registration order, children sorted by label
  // values. Thread-safe.
  std::string render() const;

 private:
  Status check_new_name(const std::string& name) const;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<MetricFamilyBase>> families_;
};

}  // namespace ppd::net
