#include "ppd/cli/tokenize_command.h"

#include <iostream>
#include <memory>
#include <sstream>

#include "ppd/cli/commands.h"
#include "ppd/tokenizer/tokenizer.h"

namespace ppd::cli {
namespace {

Result<std::string> tokenize(const TokenizeOptions& options, std::istream& in) {
  PPD_ASSIGN_OR_RETURN(const tokenizer::Tokenizer tokenizer, tokenizer::Tokenizer::load(options.model_dir));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return data_loss("stdin: read failed");
  PPD_ASSIGN_OR_RETURN(const std::vector<TokenId> ids, tokenizer.encode(text.str(), {.add_bos = options.add_bos}));
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) line += ' ';
    line += std::to_string(ids[i]);
  }
  return line + "\n";
}

}  // namespace

int run_tokenize(const TokenizeOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  const Result<std::string> line = tokenize(options, in);
  if (!line.ok()) {
    err << "ppd tokenize: " << line.status().message() << "\n";
    return 1;
  }
  out << *line << std::flush;
  return 0;
}

void register_tokenize_command(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* command =
      app.add_subcommand("tokenize", "Print the token ids of the text on stdin (all of it, as one text)");
  command
      ->add_option("--model", options->model_dir, "Model directory holding tokenizer.json (and tokenizer_config.json)")
      ->required();
  command->add_flag("--bos", options->add_bos, "Prepend the tokenizer's BOS token");
  command->callback([options, exit_code] { *exit_code = run_tokenize(*options, std::cin, std::cout, std::cerr); });
}

}  // namespace ppd::cli
