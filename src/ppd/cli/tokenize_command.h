// `ppd tokenize`: prints the token ids of the text on stdin. run_tokenize is the command's
// core, taking streams so that tests can drive it; register_tokenize_command (commands.h)
// wires it to the command line. Needs only the tokenizer files of a model directory.
#pragma once

#include <iosfwd>
#include <string>

namespace ppd::cli {

struct TokenizeOptions {
  std::string model_dir;  // holds tokenizer.json and optionally tokenizer_config.json
  bool add_bos = false;   // prepend the tokenizer's BOS id
};

// Reads all of `in` as one text and writes its ids to `out`, separated by single spaces,
// with a trailing newline. Returns 0; on an error writes one line to `err` and returns 1.
int run_tokenize(const TokenizeOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace ppd::cli
