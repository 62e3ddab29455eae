#include "ppd/sim/profile_cost_model.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ppd/common/file.h"

namespace ppd::sim {
namespace {

constexpr int kNumCoefficients = 5;
using Vec = std::array<double, kNumCoefficients>;

Vec feature_vector(const StepShape& shape, int64_t token_floor) {
  const StepFeatures f = step_features(shape);
  return {1.0, std::max(f.tokens, static_cast<double>(token_floor)), f.sampled_rows, f.prefill_pairs * 1e-6,
          f.decode_context * 1e-3};
}

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (int i = 0; i < kNumCoefficients; ++i) s += a[i] * b[i];
  return s;
}

// Solves the normal equations restricted to the `active` coefficients (others 0), by
// Gaussian elimination with partial pivoting. False when singular.
bool solve_active(const std::array<Vec, kNumCoefficients>& xtx, const Vec& xty,
                  const std::array<bool, kNumCoefficients>& active, Vec* out) {
  std::vector<int> idx;
  for (int i = 0; i < kNumCoefficients; ++i) {
    if (active[i]) idx.push_back(i);
  }
  const size_t n = idx.size();
  std::vector<std::vector<double>> a(n, std::vector<double>(n + 1));
  for (size_t r = 0; r < n; ++r) {
    for (size_t c = 0; c < n; ++c) a[r][c] = xtx[idx[r]][idx[c]];
    a[r][n] = xty[idx[r]];
  }
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < n; ++r) {
      if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
    }
    if (std::abs(a[pivot][col]) < 1e-300) return false;
    std::swap(a[col], a[pivot]);
    for (size_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const double k = a[r][col] / a[col][col];
      for (size_t c = col; c <= n; ++c) a[r][c] -= k * a[col][c];
    }
  }
  *out = {};
  for (size_t r = 0; r < n; ++r) (*out)[idx[r]] = a[r][n] / a[r][r];
  return true;
}

}  // namespace

StepFeatures step_features(const StepShape& shape) {
  StepFeatures f;
  f.tokens = f.sampled_rows = static_cast<double>(shape.num_decode_sequences());
  f.decode_context = static_cast<double>(shape.total_decode_context_tokens());
  for (const PrefillChunk& c : shape.prefill_chunks) {
    const auto n = static_cast<double>(c.num_tokens);
    f.tokens += n;
    f.sampled_rows += c.samples ? 1 : 0;
    f.prefill_pairs += n * (static_cast<double>(c.num_context_tokens) + (n + 1) / 2);
  }
  return f;
}

std::string describe_step(const StepShape& shape) {
  std::string text;
  if (shape.num_decode_sequences() > 0) {
    const StepFeatures f = step_features(shape);
    text = fmt::format("{} decodes at {:.0f}", shape.num_decode_sequences(),
                       f.decode_context / static_cast<double>(shape.num_decode_sequences()));
  }
  for (const PrefillChunk& c : shape.prefill_chunks) {
    text += fmt::format("{}{} on {}", text.empty() ? "" : " + ", c.num_tokens, c.num_context_tokens);
  }
  return text;
}

Result<std::array<double, 5>> fit_step_coefficients(const std::vector<MeasuredStep>& samples, int64_t token_floor) {
  if (samples.size() < kNumCoefficients) {
    return invalid_argument("samples: at least {} measured steps are needed; got {}", kNumCoefficients, samples.size());
  }
  // Weighted by 1/y²: the fit minimizes relative error, so short decode steps count as much as long prefills.
  std::array<Vec, kNumCoefficients> xtx{};
  Vec xty{};
  for (size_t s = 0; s < samples.size(); ++s) {
    const double y = samples[s].step_us;
    if (!(y > 0) || !std::isfinite(y)) return invalid_argument("samples[{}].step_us: must be > 0; got {}", s, y);
    const Vec x = feature_vector(samples[s].shape, token_floor);
    const double w = 1 / (y * y);
    for (int i = 0; i < kNumCoefficients; ++i) {
      for (int j = 0; j < kNumCoefficients; ++j) xtx[i][j] += w * x[i] * x[j];
      xty[i] += w * x[i] * y;
    }
  }
  // A whisper of ridge regularization: features the samples do not vary (all-zero prefill
  // pairs, tokens equal to sampled rows) get a determined, near-zero coefficient.
  for (int i = 0; i < kNumCoefficients; ++i) xtx[i][i] += 1e-9 * xtx[i][i] + 1e-300;
  std::array<bool, kNumCoefficients> active;
  active.fill(true);
  Vec c{};
  for (int round = 0; round < kNumCoefficients; ++round) {
    if (!solve_active(xtx, xty, active, &c)) {
      return invalid_argument("samples: the measured steps do not vary enough to fit {} coefficients",
                              kNumCoefficients);
    }
    int worst = -1;
    for (int i = 0; i < kNumCoefficients; ++i) {
      if (active[i] && c[i] < 0 && (worst < 0 || c[i] < c[worst])) worst = i;
    }
    if (worst < 0) return c;
    active[worst] = false;
  }
  return invalid_argument("samples: no fit with non-negative coefficients");
}

namespace {

// 0, then the samples' distinct token counts, at most `limit` of them evenly by rank.
std::vector<int64_t> token_floor_candidates(const std::vector<MeasuredStep>& samples, size_t limit = 64) {
  std::set<int64_t> distinct;
  for (const MeasuredStep& s : samples) distinct.insert(s.shape.num_decode_sequences() + s.shape.num_prefill_tokens());
  const std::vector<int64_t> counts(distinct.begin(), distinct.end());
  std::vector<int64_t> out = {0};
  if (counts.size() <= limit) {
    out.insert(out.end(), counts.begin(), counts.end());
    return out;
  }
  for (size_t i = 0; i < limit; ++i) out.push_back(counts[i * (counts.size() - 1) / (limit - 1)]);
  return out;
}

// Sum of squared relative errors and mean absolute relative error of `c` over the samples.
std::pair<double, double> fit_errors(const Vec& c, int64_t token_floor, const std::vector<MeasuredStep>& samples) {
  double squared = 0, absolute = 0;
  for (const MeasuredStep& s : samples) {
    const double e = dot(c, feature_vector(s.shape, token_floor)) / s.step_us - 1;
    squared += e * e;
    absolute += std::abs(e);
  }
  return {squared, absolute / static_cast<double>(samples.size())};
}

// mean(measured / fitted) over the samples: the factor that makes `c` price the mean step.
double mean_ratio(const Vec& c, int64_t token_floor, const std::vector<MeasuredStep>& samples) {
  double sum = 0;
  for (const MeasuredStep& s : samples) sum += s.step_us / dot(c, feature_vector(s.shape, token_floor));
  return sum / static_cast<double>(samples.size());
}

}  // namespace

Result<StepProfile> fit_profile(std::string name, std::string model, const std::vector<MeasuredStep>& samples) {
  std::optional<StepProfile> best;
  double best_squared = 0;
  Status first_error = Status::Ok();
  for (const int64_t floor : token_floor_candidates(samples)) {
    Result<Vec> c = fit_step_coefficients(samples, floor);
    if (!c.ok()) {  // this floor leaves too little variation; another may fit
      if (first_error.ok()) first_error = c.status();
      continue;
    }
    const auto [squared, mean_abs] = fit_errors(*c, floor, samples);
    if (best && !(squared < best_squared * (1 - 1e-9))) continue;
    best = StepProfile{.name = name,
                       .model = model,
                       .coefficients_us = *c,
                       .token_floor = floor,
                       .mean_abs_error = mean_abs,
                       .num_samples = static_cast<int>(samples.size())};
    best_squared = squared;
  }
  if (!best) return first_error;
  const double scale = mean_ratio(best->coefficients_us, best->token_floor, samples);
  if (std::isfinite(scale) && scale > 0) {
    for (double& c : best->coefficients_us) c *= scale;
    best->mean_abs_error = fit_errors(best->coefficients_us, best->token_floor, samples).second;
  }
  best->samples = samples;
  return *std::move(best);
}

int64_t ProfileCostModel::step_time_ns(const StepShape& shape) const {
  if (shape.decode_context_tokens.empty() && shape.prefill_chunks.empty()) return 0;
  return std::llround(dot(profile_.coefficients_us, feature_vector(shape, profile_.token_floor)) * 1e3);
}

nlohmann::json to_json(const StepProfile& p) {
  nlohmann::json j = {
      {"kind", "ppd-step-profile"},
      {"name", p.name},
      {"model", p.model},
      {"features", {"step", "tokens", "sampled_rows", "prefill_pairs_per_million", "decode_context_per_thousand"}},
      {"coefficients_us", p.coefficients_us},
      {"token_floor", p.token_floor},
      {"mean_abs_error", p.mean_abs_error},
      {"num_samples", p.num_samples}};
  if (p.device_memory_bytes > 0) j["device_memory_bytes"] = p.device_memory_bytes;
  if (p.samples.empty()) return j;
  nlohmann::json samples = nlohmann::json::array();
  for (const MeasuredStep& s : p.samples) {
    nlohmann::json chunks = nlohmann::json::array();
    for (const PrefillChunk& c : s.shape.prefill_chunks)
      chunks.push_back({c.num_tokens, c.num_context_tokens, c.samples});
    samples.push_back(
        {{"decode_context_tokens", s.shape.decode_context_tokens}, {"prefill_chunks", chunks}, {"step_us", s.step_us}});
  }
  j["samples"] = std::move(samples);
  return j;
}

namespace {

bool is_count(const nlohmann::json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; }

// One stored sample: {"decode_context_tokens": [n...], "prefill_chunks": [[tokens, context,
// samples]...], "step_us": t}.
Result<MeasuredStep> sample_from_json(const nlohmann::json& j, size_t index) {
  const std::string at = fmt::format("samples[{}]", index);
  if (!j.is_object()) return invalid_argument("{}: expected an object; got {}", at, j.dump());
  MeasuredStep s;
  const nlohmann::json& decodes = j.contains("decode_context_tokens") ? j["decode_context_tokens"] : nlohmann::json();
  if (!decodes.is_array())
    return invalid_argument("{}.decode_context_tokens: expected an array; got {}", at, decodes.dump());
  for (const nlohmann::json& c : decodes) {
    if (!is_count(c)) return invalid_argument("{}.decode_context_tokens: expected integers >= 0; got {}", at, c.dump());
    s.shape.decode_context_tokens.push_back(c.get<int64_t>());
  }
  const nlohmann::json& chunks = j.contains("prefill_chunks") ? j["prefill_chunks"] : nlohmann::json();
  if (!chunks.is_array()) return invalid_argument("{}.prefill_chunks: expected an array; got {}", at, chunks.dump());
  for (const nlohmann::json& c : chunks) {
    if (!c.is_array() || c.size() != 3 || !is_count(c[0]) || c[0].get<int64_t>() < 1 || !is_count(c[1]) ||
        !c[2].is_boolean()) {
      return invalid_argument("{}.prefill_chunks: expected [tokens >= 1, context >= 0, samples]; got {}", at, c.dump());
    }
    s.shape.prefill_chunks.push_back(
        {.num_tokens = c[0].get<int64_t>(), .num_context_tokens = c[1].get<int64_t>(), .samples = c[2].get<bool>()});
  }
  const nlohmann::json& t = j.contains("step_us") ? j["step_us"] : nlohmann::json();
  if (!t.is_number() || !(t.get<double>() > 0))
    return invalid_argument("{}.step_us: expected a number > 0; got {}", at, t.dump());
  s.step_us = t.get<double>();
  return s;
}

Result<std::vector<MeasuredStep>> samples_from_json(const nlohmann::json& j) {
  if (!j.is_array()) return invalid_argument("samples: expected an array; got {}", j.dump());
  std::vector<MeasuredStep> out;
  for (size_t i = 0; i < j.size(); ++i) {
    PPD_ASSIGN_OR_RETURN(MeasuredStep s, sample_from_json(j[i], i));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Result<StepProfile> profile_from_json(const nlohmann::json& j) {
  if (!j.is_object() || j.value("kind", "") != "ppd-step-profile") {
    return invalid_argument("kind: expected \"ppd-step-profile\"; got {}",
                            j.is_object() && j.contains("kind") ? j["kind"].dump() : "nothing");
  }
  StepProfile p;
  for (const char* field : {"name", "model"}) {
    if (!j.contains(field) || !j[field].is_string()) return invalid_argument("{}: expected a string", field);
  }
  p.name = j["name"].get<std::string>();
  p.model = j["model"].get<std::string>();
  const nlohmann::json& c = j.contains("coefficients_us") ? j["coefficients_us"] : nlohmann::json();
  bool ok = c.is_array() && c.size() == kNumCoefficients;
  for (size_t i = 0; ok && i < c.size(); ++i) ok = c[i].is_number() && c[i].get<double>() >= 0;
  if (!ok) return invalid_argument("coefficients_us: expected {} numbers >= 0; got {}", kNumCoefficients, c.dump());
  for (int i = 0; i < kNumCoefficients; ++i) p.coefficients_us[i] = c[i].get<double>();
  if (j.contains("token_floor")) {
    if (!is_count(j["token_floor"])) {
      return invalid_argument("token_floor: expected an integer >= 0; got {}", j["token_floor"].dump());
    }
    p.token_floor = j["token_floor"].get<int64_t>();
  }
  if (j.contains("device_memory_bytes")) {
    if (!is_count(j["device_memory_bytes"])) {
      return invalid_argument("device_memory_bytes: expected an integer >= 0; got {}", j["device_memory_bytes"].dump());
    }
    p.device_memory_bytes = j["device_memory_bytes"].get<int64_t>();
  }
  p.mean_abs_error = j.value("mean_abs_error", 0.0);
  p.num_samples = j.value("num_samples", 0);
  if (j.contains("samples")) {
    PPD_ASSIGN_OR_RETURN(p.samples, samples_from_json(j["samples"]));
  }
  return p;
}

Result<StepProfile> read_profile(const std::string& path) {
  PPD_ASSIGN_OR_RETURN(const std::string text, read_file(path));
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return invalid_argument("profile {}: not valid JSON", path);
  Result<StepProfile> p = profile_from_json(j);
  if (!p.ok()) return invalid_argument("profile {}: {}", path, p.status().message());
  return p;
}

}  // namespace ppd::sim
