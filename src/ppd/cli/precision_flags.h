// The precision flags of every command that loads a model (`ppd node`, `ppd generate`, `ppd
// bench engine`, and `ppd up`, which hands them to its nodes): --dtype, --quantize and
// --kv-dtype, checked at parse time. Their values are EngineOptions' fields of those names.
#pragma once

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace ppd::cli {

struct PrecisionFlags {
  std::string* dtype;
  std::string* quantize;
  std::string* kv_dtype;
};

void add_precision_flags(CLI::App* cmd, const PrecisionFlags& flags);

}  // namespace ppd::cli
