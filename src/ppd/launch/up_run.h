// `ppd up` run: the cluster of up_plan.h started, supervised (up_cluster.h) and stopped.
#pragma once

#include "ppd/launch/up_plan.h"

namespace ppd::launch {

// Runs the cluster until SIGINT or SIGTERM; returns the process exit code (0 after a signal, 1
// when a child fails to start or a step of the setup fails, with the reason on stderr).
// REQUIRES: called before the process starts any thread (it blocks the stop signals for all).
int run_up(UpOptions options);

}  // namespace ppd::launch
