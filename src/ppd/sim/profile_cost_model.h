// ProfileCostModel: a step cost fitted to measured steps of a real engine (the calibrated
// profile `ppd sim calibrate` or scripts/gpu_step_profile.py writes), linear in five features
// of the batch:
//   step_us = c0 + c1·max(tokens, token_floor) + c2·sampled_rows + c3·prefill_pairs / 10^6
//             + c4·decode_context / 10^3
// tokens: every token computed (decode sequences plus prefill tokens), each through the
// linear layers; token_floor: the batch size below which those layers cost what reading their
// weights costs (a GPU's; 0 where the cost is linear from the first token, as on our CPU
// engine; the fit chooses it); sampled_rows: rows through the LM head (decodes plus prompt-ending chunks);
// prefill_pairs: (query, key) pairs a prefill chunk scores, n·(p + (n + 1) / 2) for n tokens
// after p others; decode_context: the tokens every decode sequence attends to (its KV read,
// memory-bound where prefill attention is compute-bound). The JSON form is the profile file.
// Pure; immutable after construction.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ppd/common/status.h"
#include "ppd/sim/step_cost.h"

namespace ppd::sim {

struct StepFeatures {
  double tokens = 0;
  double sampled_rows = 0;
  double prefill_pairs = 0;
  double decode_context = 0;
};
StepFeatures step_features(const StepShape& shape);

// For tables: "200 decodes at 1024 + 1024 on 2048" (decodes at their mean context; each
// prefill chunk's tokens on the tokens before it).
std::string describe_step(const StepShape& shape);

// One measured step.
struct MeasuredStep {
  StepShape shape;
  double step_us = 0;
};

struct StepProfile {
  std::string name;                         // what was measured, e.g. "cpu small, 1 thread, AMD EPYC 7B13"
  std::string model;                        // the model preset or directory it was measured on
  std::array<double, 5> coefficients_us{};  // c0..c4 as above, each >= 0
  int64_t token_floor = 0;                  // >= 0
  double mean_abs_error = 0;                // of the fit over its samples, relative (0.05 = 5%)
  int num_samples = 0;
  // Memory of the device it was measured on (a GPU's, as the CUDA runtime reports it), from
  // which the simulator sizes a node's KV pool; 0 when not recorded (a CPU profile, whose
  // node's pool is `ppd node --kv-cache-mib`).
  int64_t device_memory_bytes = 0;
  // The measured steps it was fitted to, when kept (the file then carries them, so that
  // calibrations made at different times can be fitted together); may be empty.
  std::vector<MeasuredStep> samples;
};

// Least squares in relative error over the samples' features at `token_floor`, with every
// coefficient >= 0 (a coefficient that would go negative is dropped and the rest refitted).
// INVALID_ARGUMENT with fewer than five samples or a sample whose time is not positive.
Result<std::array<double, 5>> fit_step_coefficients(const std::vector<MeasuredStep>& samples, int64_t token_floor = 0);

// A profile with its fit error over `samples`, which it keeps. The token floor is the one of
// 0 and the samples' token counts (64 of them at most, evenly by rank) that fits best. The
// coefficients are then scaled by mean(measured / fitted): least squares in relative error
// prices noisy steps low (with noise of relative spread v, by about 2v²: 8% on the node
// logs of a busy 2-core VM), and the simulator must reproduce mean step times, which mean
// latencies add up. scripts/gpu_step_profile.py fits the same way.
Result<StepProfile> fit_profile(std::string name, std::string model, const std::vector<MeasuredStep>& samples);

nlohmann::json to_json(const StepProfile& p);
// Strict: INVALID_ARGUMENT naming the field ("coefficients_us: expected 5 numbers >= 0; got ...",
// "samples[3].step_us: expected a number > 0; got ..."). "samples", "token_floor" (0) and
// "device_memory_bytes" (0) are optional.
Result<StepProfile> profile_from_json(const nlohmann::json& j);
Result<StepProfile> read_profile(const std::string& path);

class ProfileCostModel final : public StepCostModel {
 public:
  explicit ProfileCostModel(StepProfile profile) : profile_(std::move(profile)) {}
  int64_t step_time_ns(const StepShape& shape) const override;
  const StepProfile& profile() const { return profile_; }

 private:
  StepProfile profile_;
};

}  // namespace ppd::sim
