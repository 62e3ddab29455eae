// The engine steps a node logs at debug level (PPD_LOG_LEVEL=debug), one line each:
//   ... debug step prefill_tokens=P decodes=D context_tokens=C step_us=U
// read back so that a step profile can be checked against the steps a real node ran.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "ppd/common/status.h"
#include "ppd/sim/profile_cost_model.h"

namespace ppd::experiment {

struct LoggedStep {
  int64_t prefill_tokens = 0;
  int64_t decodes = 0;
  int64_t context_tokens = 0;  // summed over the step's chunks: each chunk's end position
  int64_t step_us = 0;
};

// Every step line of the file, in order; other lines are skipped. INVALID_ARGUMENT naming the
// file and line when a step line lacks a field or holds a negative number.
Result<std::vector<LoggedStep>> read_node_step_log(const std::string& path);

// The logged steps whose shape the line determines, for fitting a profile: decode-only steps
// (the context split evenly among the sequences, which leaves the profile's features exact)
// and lone prefills (one prompt-ending chunk on the rest of its context). Mixed steps are
// left out.
std::vector<sim::MeasuredStep> shaped_steps(const std::vector<LoggedStep>& steps);

// Prints the profile's step times next to the logged ones: decode-only steps by batch size,
// their mean per decoding sequence (what TPOT sees), and lone prefills (a prompt-ending chunk
// on the cached rest of its context). Steps mixing prefill and decodes are counted, not
// compared: the log does not split their context. FAILED_PRECONDITION when the per-sequence
// decode time or the prefill time is off by more than `tolerance`: the machine ran at another
// speed than when the profile was calibrated, or the profile misses something.
Status check_profile_against_steps(const sim::ProfileCostModel& profile, const std::string& label,
                                   const std::vector<LoggedStep>& steps, double tolerance, std::ostream& out);

}  // namespace ppd::experiment
