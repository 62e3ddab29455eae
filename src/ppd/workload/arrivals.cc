// Poisson arrivals and time scaling.
#include "ppd/workload/arrivals.h"

#include "ppd/workload/option_checks.h"
#include "ppd/workload/rng.h"

namespace ppd::workload {
namespace {

constexpr uint64_t kArrivalStream = 0x41525249;  // "ARRI"

}  // namespace

Status assign_poisson_arrivals(double rate_per_s, uint64_t seed, Workload* w) {
  PPD_RETURN_IF_ERROR(internal::check_positive("rate", rate_per_s));
  Rng rng = Rng::for_stream(seed, kArrivalStream, 0);
  double t = 0;
  for (Conversation& c : w->conversations) {
    t += rng.exponential(rate_per_s);
    c.arrival_s = t;
  }
  return Status::Ok();
}

Status scale_times(double time_scale, Workload* w) {
  PPD_RETURN_IF_ERROR(internal::check_positive("time_scale", time_scale));
  for (Conversation& c : w->conversations) {
    c.arrival_s *= time_scale;
    for (Turn& t : c.turns) {
      if (t.offset_s >= 0) t.offset_s *= time_scale;
      t.think_time_s *= time_scale;
    }
  }
  return Status::Ok();
}

}  // namespace ppd::workload
