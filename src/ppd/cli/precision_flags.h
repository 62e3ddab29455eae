// The weight-precision flags of every command that loads a model (`ppd node`, `ppd generate`,
// `ppd bench engine`, and `ppd up`, which hands them to its nodes): --dtype and --quantize,
// checked at parse time. Their values are EngineOptions::dtype and EngineOptions::quantize.
#pragma once

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace ppd::cli {

void add_precision_flags(CLI::App* cmd, std::string* dtype, std::string* quantize);

}  // namespace ppd::cli
