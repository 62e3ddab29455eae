// The flags that describe a simulated cluster (`ppd sim`, `ppd sim sweep`): model, cost profile,
// P:D split, node limits, KV link and routing policy (experiment/sim_setup.h builds the setup).
#pragma once

#include "ppd/experiment/sim_setup.h"

namespace CLI {
class App;
}  // namespace CLI

namespace ppd::cli {

void add_sim_cluster_flags(CLI::App* cmd, experiment::SimClusterFlags* f);

// --template-tokens: tokens a chat template adds to every simulated user message.
void add_template_tokens_flag(CLI::App* cmd, int* template_tokens);

}  // namespace ppd::cli
