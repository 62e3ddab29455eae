// Arrival-time transforms applied to a generated or read Workload: seeded Poisson arrivals
// and a uniform time scale. Both keep conversation order and ids; both mutate *w and leave it
// untouched when they return an error. Pure functions; no clocks.
#pragma once

#include <cstdint>

#include "ppd/common/status.h"
#include "ppd/workload/workload.h"

namespace ppd::workload {

// Sets arrival_s of every conversation from a Poisson process at rate_per_s (exponential
// gaps; the first arrival is the first gap, not 0), seeded: the same seed gives the same
// times. rate_per_s <= 0 or not finite -> INVALID_ARGUMENT "rate: must be > 0; got X".
Status assign_poisson_arrivals(double rate_per_s, uint64_t seed, Workload* w);

// Multiplies arrival_s, offset_s (those >= 0; a negative offset means "no bound" and stays)
// and think_time_s by time_scale. time_scale <= 0 or not finite -> INVALID_ARGUMENT
// "time_scale: must be > 0; got X".
Status scale_times(double time_scale, Workload* w);

}  // namespace ppd::workload
