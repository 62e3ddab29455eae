// The `table` baseline: the paper's classifiers, the strict parser of its table file, and the
// policy that looks a request's cell up. See table_policy.h for the file format.
#include "ppd/routing/table_policy.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "ppd/common/file.h"
#include "ppd/common/json_excerpt.h"
#include "ppd/routing/policy_util.h"

namespace ppd::routing {
namespace {

using nlohmann::json;

constexpr std::array<ContextClass, 2> kTableContexts = {ContextClass::kSmall, ContextClass::kLarge};
constexpr std::array<IoClass, 9> kIoClasses = {IoClass::kTiny,        IoClass::kShortGen, IoClass::kLongGen,
                                               IoClass::kVeryLongGen, IoClass::kSmallBal, IoClass::kMidBal,
                                               IoClass::kMidPaste,    IoClass::kBigPaste, IoClass::kHugePaste};
constexpr std::array<std::string_view, 4> kMeasuredKeys = {"ttft_remote_s", "ttft_local_s", "tpot_remote_s",
                                                           "tpot_local_s"};

std::string table_excerpt(const json& value) { return json_excerpt(value); }

template <typename T, size_t N, typename NameOf>
std::string join_names(const std::array<T, N>& values, NameOf name_of) {
  std::string out;
  for (const T& v : values) out += (out.empty() ? "" : ", ") + std::string(name_of(v));
  return out;
}

// Turn-2 averages of one cell under the two fixed strategies (x=0 remote, x=1 local).
struct Measured {
  double ttft_remote_s = 0, ttft_local_s = 0, tpot_remote_s = 0, tpot_local_s = 0;
};

struct Weights {
  double ttft = 1.0;
  double tpot = 1.0;
};

// The paper's offline rule: local when the weighted relative TTFT gain beats the relative
// TPOT loss.
bool measured_goes_local(const Measured& m, const Weights& w) {
  const double ttft_gain = (m.ttft_remote_s - m.ttft_local_s) / m.ttft_remote_s;
  const double tpot_loss = (m.tpot_local_s - m.tpot_remote_s) / m.tpot_remote_s;
  return w.ttft * ttft_gain - w.tpot * tpot_loss > 0;
}

// Parses one table file; every error reads "<source>: <JSON path>: <message>".
class TableParser {
 public:
  explicit TableParser(std::string_view source) : source_(source) {}

  Result<LookupTable> parse(std::string_view text) {
    PPD_ASSIGN_OR_RETURN(const json root, parse_json(text));
    if (!root.is_object()) return invalid_argument("{}: expected a JSON object; got {}", source_, table_excerpt(root));
    PPD_RETURN_IF_ERROR(check_keys(root, "", {"rate_points", "weights", "cells"}));
    LookupTable table;
    PPD_ASSIGN_OR_RETURN(table.rate_points, parse_rate_points(root));
    PPD_RETURN_IF_ERROR(parse_weights(root));
    const auto cells = root.find("cells");
    if (cells == root.end()) return error("cells", "missing");
    if (!cells->is_array()) return error("cells", "expected an array; got " + table_excerpt(*cells));
    std::map<TableCellKey, size_t> index_of;
    for (size_t i = 0; i < cells->size(); ++i) {
      PPD_RETURN_IF_ERROR(parse_cell((*cells)[i], fmt::format("cells[{}]", i), table, index_of));
    }
    return table;
  }

 private:
  Result<json> parse_json(std::string_view text) const {
    try {
      return json::parse(text);
    } catch (const json::exception& e) {
      std::string_view reason = e.what();
      // Drop nlohmann's "[json.exception.parse_error.101] " tag.
      if (const size_t end = reason.find("] "); end != std::string_view::npos) reason.remove_prefix(end + 2);
      return invalid_argument("{}: invalid JSON: {}", source_, reason);
    }
  }

  Status error(std::string_view path, std::string_view message) const {
    return invalid_argument("{}: {}: {}", source_, path, message);
  }

  Status check_keys(const json& object, std::string_view prefix,
                    std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : object.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string names;
      for (std::string_view a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      return error(std::string(prefix) + key, "unknown field; allowed: " + names);
    }
    return Status::Ok();
  }

  Result<double> number(const json& v, std::string_view path, double min) const {
    if (!v.is_number()) return error(path, "expected a number; got " + table_excerpt(v));
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < min) return error(path, fmt::format("must be >= {}; got {}", min, table_excerpt(v)));
    return x;
  }

  Result<bool> boolean(const json& v, std::string_view path) const {
    if (!v.is_boolean()) return error(path, "expected a boolean; got " + table_excerpt(v));
    return v.get<bool>();
  }

  // The enumerator among `values` whose name is the string `v`.
  template <typename T, size_t N, typename NameOf>
  Result<T> name(const json& v, std::string_view path, const std::array<T, N>& values, NameOf name_of) const {
    if (!v.is_string()) return error(path, "expected a string; got " + table_excerpt(v));
    for (const T& value : values) {
      if (name_of(value) == v.get_ref<const std::string&>()) return value;
    }
    return error(path, fmt::format("unknown {}; supported: {}", table_excerpt(v), join_names(values, name_of)));
  }

  Result<std::vector<double>> parse_rate_points(const json& root) const {
    const auto it = root.find("rate_points");
    if (it == root.end()) return std::vector<double>(kPaperRatePoints.begin(), kPaperRatePoints.end());
    if (!it->is_array()) return error("rate_points", "expected an array of numbers; got " + table_excerpt(*it));
    if (it->empty()) return error("rate_points", "must not be empty");
    std::vector<double> points;
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string path = fmt::format("rate_points[{}]", i);
      PPD_ASSIGN_OR_RETURN(const double p, number((*it)[i], path, 0));
      if (!points.empty() && p <= points.back()) {
        return error(path, fmt::format("must be > {} (ascending); got {}", points.back(), p));
      }
      points.push_back(p);
    }
    return points;
  }

  Status parse_weights(const json& root) {
    const auto it = root.find("weights");
    if (it == root.end()) return Status::Ok();
    if (!it->is_object()) return error("weights", "expected an object; got " + table_excerpt(*it));
    PPD_RETURN_IF_ERROR(check_keys(*it, "weights.", {"ttft", "tpot"}));
    if (it->contains("ttft")) {
      PPD_ASSIGN_OR_RETURN(weights_.ttft, number(it->at("ttft"), "weights.ttft", 0));
    }
    if (it->contains("tpot")) {
      PPD_ASSIGN_OR_RETURN(weights_.tpot, number(it->at("tpot"), "weights.tpot", 0));
    }
    return Status::Ok();
  }

  Status parse_cell(const json& cell, const std::string& path, LookupTable& table,
                    std::map<TableCellKey, size_t>& index_of) const {
    if (!cell.is_object()) return error(path, "expected an object; got " + table_excerpt(cell));
    PPD_RETURN_IF_ERROR(check_keys(cell, path + ".",
                                   {"context", "io", "rate", "local", "remote_failed", "ttft_remote_s", "ttft_local_s",
                                    "tpot_remote_s", "tpot_local_s"}));
    for (std::string_view key : {"context", "io", "rate"}) {
      if (!cell.contains(key)) return error(path + "." + std::string(key), "missing");
    }
    TableCellKey key;
    PPD_ASSIGN_OR_RETURN(key.context, name(cell.at("context"), path + ".context", kTableContexts, context_class_name));
    PPD_ASSIGN_OR_RETURN(key.io, name(cell.at("io"), path + ".io", kIoClasses, io_class_name));
    PPD_ASSIGN_OR_RETURN(key.rate_point, number(cell.at("rate"), path + ".rate", 0));
    if (!std::ranges::binary_search(table.rate_points, key.rate_point)) {
      return error(path + ".rate", fmt::format("must be one of rate_points ({}); got {}",
                                               fmt::join(table.rate_points, ", "), key.rate_point));
    }
    PPD_ASSIGN_OR_RETURN(const bool local, cell_local(cell, path));
    const size_t index = index_of.size();
    if (const auto [it, inserted] = index_of.emplace(key, index); !inserted) {
      return error(path, fmt::format("duplicate of cells[{}] ({}, {}, {})", it->second, context_class_name(key.context),
                                     io_class_name(key.io), key.rate_point));
    }
    table.cells[key] = local;
    return Status::Ok();
  }

  // A cell says "local" outright, or "remote_failed": true, or gives all four measured averages.
  Result<bool> cell_local(const json& cell, const std::string& path) const {
    const bool has_measured = std::ranges::any_of(kMeasuredKeys, [&](std::string_view k) { return cell.contains(k); });
    if (cell.contains("local")) {
      if (has_measured || cell.contains("remote_failed")) {
        return error(path, "give either \"local\" or the measured values, not both");
      }
      return boolean(cell.at("local"), path + ".local");
    }
    bool remote_failed = false;
    if (cell.contains("remote_failed")) {
      PPD_ASSIGN_OR_RETURN(remote_failed, boolean(cell.at("remote_failed"), path + ".remote_failed"));
    }
    if (remote_failed) return true;
    if (!has_measured) {
      return error(path,
                   "missing \"local\", \"remote_failed\": true, or ttft_remote_s, ttft_local_s, tpot_remote_s "
                   "and tpot_local_s");
    }
    std::array<double, 4> values{};  // in kMeasuredKeys order
    for (size_t k = 0; k < kMeasuredKeys.size(); ++k) {
      const std::string field = path + "." + std::string(kMeasuredKeys[k]);
      const auto it = cell.find(kMeasuredKeys[k]);
      if (it == cell.end()) return error(field, "missing");
      PPD_ASSIGN_OR_RETURN(values[k], number(*it, field, 0));
    }
    const Measured m{values[0], values[1], values[2], values[3]};
    // The remote averages are the rule's denominators.
    if (m.ttft_remote_s == 0) return error(path + ".ttft_remote_s", "must be > 0; got 0");
    if (m.tpot_remote_s == 0) return error(path + ".tpot_remote_s", "must be > 0; got 0");
    return measured_goes_local(m, weights_);
  }

  std::string_view source_;
  Weights weights_;
};

class TablePolicy final : public RoutingPolicy {
 public:
  TablePolicy(LookupTable table, TablePolicyOptions options) : table_(std::move(table)), options_(options) {}
  std::string_view name() const override { return "table"; }

  Result<RouteDecision> route(const ClusterView& view, const RouteInput& in) const override {
    PPD_ASSIGN_OR_RETURN(Placement p, place(view, in));
    if (in.turn <= 1) return remote_or_fallback(p, options_.transfer, "turn1");
    if (options_.short_input_bypass_tokens && in.num_new_tokens < *options_.short_input_bypass_tokens) {
      return make_decision(p, Path::kLocal, "short_input");
    }
    if (goes_local(in)) return make_decision(p, Path::kLocal, "table");
    return remote_or_fallback(p, options_.transfer, "table");
  }

 private:
  // The request's cell says local, or there is no such cell.
  bool goes_local(const RouteInput& in) const {
    if (table_.rate_points.empty()) return true;
    TableCellKey key{.context = classify_context(in.num_history_tokens),
                     .io = classify_io(in.num_new_tokens, in.max_tokens),
                     .rate_point = nearest_rate_point(in.request_rate, table_.rate_points)};
    if (key.context == ContextClass::kHuge) key.context = ContextClass::kLarge;
    const auto it = table_.cells.find(key);
    return it == table_.cells.end() || it->second;
  }

  LookupTable table_;
  TablePolicyOptions options_;
};

}  // namespace

std::string_view context_class_name(ContextClass c) {
  switch (c) {
    case ContextClass::kSmall:
      return "small";
    case ContextClass::kLarge:
      return "large";
    case ContextClass::kHuge:
      return "huge";
  }
  return "?";
}

std::string_view io_class_name(IoClass c) {
  switch (c) {
    case IoClass::kTiny:
      return "tiny";
    case IoClass::kShortGen:
      return "short_gen";
    case IoClass::kLongGen:
      return "long_gen";
    case IoClass::kVeryLongGen:
      return "very_long_gen";
    case IoClass::kSmallBal:
      return "small_bal";
    case IoClass::kMidBal:
      return "mid_bal";
    case IoClass::kMidPaste:
      return "mid_paste";
    case IoClass::kBigPaste:
      return "big_paste";
    case IoClass::kHugePaste:
      return "huge_paste";
  }
  return "?";
}

ContextClass classify_context(int num_history_tokens) {
  if (num_history_tokens <= 512) return ContextClass::kSmall;
  if (num_history_tokens <= 4096) return ContextClass::kLarge;
  return ContextClass::kHuge;
}

// r = n_in / max(n_out, 1), compared in integers so the boundaries are exact:
// r < 0.25 iff 4·n_in < d, and r <= 2 iff n_in <= 2·d, with d = max(n_out, 1).
IoClass classify_io(int num_new_tokens, int max_tokens) {
  const int64_t n_in = num_new_tokens;
  const int64_t d = std::max(max_tokens, 1);
  if (4 * n_in < d) {
    if (max_tokens <= 64) return IoClass::kTiny;
    if (max_tokens <= 256) return IoClass::kShortGen;
    if (max_tokens <= 512) return IoClass::kLongGen;
    return IoClass::kVeryLongGen;
  }
  if (n_in <= 2 * d) return n_in <= 64 ? IoClass::kSmallBal : IoClass::kMidBal;
  if (n_in <= 256) return IoClass::kMidPaste;
  if (n_in <= 512) return IoClass::kBigPaste;
  return IoClass::kHugePaste;
}

double nearest_rate_point(double rate, const std::vector<double>& points) {
  if (!(rate > points.front())) return points.front();
  if (rate >= points.back()) return points.back();
  const auto hi = std::ranges::lower_bound(points, rate);  // points.front() < rate < points.back()
  const double up = *hi;
  const double down = *(hi - 1);
  return rate - down < up - rate ? down : up;
}

Result<LookupTable> parse_lookup_table(std::string_view json_text, std::string_view source) {
  return TableParser(source).parse(json_text);
}

Result<LookupTable> load_lookup_table(const std::string& path) {
  PPD_ASSIGN_OR_RETURN(const std::string text, read_file(path));
  return parse_lookup_table(text, path);
}

std::unique_ptr<RoutingPolicy> make_table_policy(LookupTable table, TablePolicyOptions options) {
  return std::make_unique<TablePolicy>(std::move(table), options);
}

}  // namespace ppd::routing
