// The routing-policy flags `ppd router` and `ppd sim` share, and the PolicyOptions they give.
#pragma once

#include <string>

#include "ppd/experiment/policy_spec.h"
namespace CLI {
class App;
}  // namespace CLI

namespace ppd::cli {

// `guard_flags` names the ppd guards: "--slo" gives --slo-ttft-ms/--slo-tpot-ms (ppd router),
// "--guard" gives --guard-ttft-ms/--guard-tpot-ms (where --slo-* are the benchmark's SLOs).
void add_policy_flags(CLI::App* cmd, experiment::PolicyFlags* f, const std::string& guard_flags);

}  // namespace ppd::cli
