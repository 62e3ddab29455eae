#include "ppd/cli/tokenize_command.h"

#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>

#include "ppd/cli/commands.h"

namespace ppd::cli {
namespace {

struct CommandRun {
  int exit_code;
  std::string out;
  std::string err;
};

CommandRun run(const TokenizeOptions& options, const std::string& input) {
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  const int exit_code = run_tokenize(options, in, out, err);
  return {exit_code, out.str(), err.str()};
}

std::string tinystories_dir() {
  const char* shared_dir = std::getenv("PPD_SHARED_DIR");
  return shared_dir == nullptr ? "" : std::string(shared_dir) + "/models/tinystories-656k";
}

TEST(TokenizeCommandTest, PrintsIdsOfAllInput) {
  if (tinystories_dir().empty()) GTEST_SKIP() << "PPD_SHARED_DIR is not set; needs the TinyStories model";
  const CommandRun plain = run({.model_dir = tinystories_dir()}, "Hello world");
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_EQ(plain.out, "80 1288 139 410 555\n");
  EXPECT_EQ(plain.err, "");
  const CommandRun with_bos = run({.model_dir = tinystories_dir(), .add_bos = true}, "Hello world");
  EXPECT_EQ(with_bos.out, "1 80 1288 139 410 555\n");
  EXPECT_EQ(run({.model_dir = tinystories_dir()}, "Line one.\nLine").out, "80 37 1780 719 122 37 96 57\n");
  EXPECT_EQ(run({.model_dir = tinystories_dir()}, "").out, "\n");
}

TEST(TokenizeCommandTest, ReportsErrorsOnOneLine) {
  const CommandRun missing = run({.model_dir = "/nonexistent/model"}, "hi");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err,
            "ppd tokenize: /nonexistent/model/tokenizer.json: cannot open: No such "
            "file or directory\n");
  if (tinystories_dir().empty()) return;
  const CommandRun invalid = run({.model_dir = tinystories_dir()}, "ab\xFF");
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_EQ(invalid.err, "ppd tokenize: text: invalid UTF-8 at byte offset 2\n");
}

TEST(TokenizeCommandTest, ParsesItsFlags) {
  CLI::App app("ppd");
  int exit_code = -1;
  register_tokenize_command(app, &exit_code);
  const char* argv[] = {"ppd", "tokenize", "--model", "/nonexistent/model", "--bos"};
  testing::internal::CaptureStderr();
  app.parse(5, argv);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(exit_code, 1);
  EXPECT_TRUE(err.starts_with("ppd tokenize: /nonexistent/model/tokenizer.json")) << err;
}

}  // namespace
}  // namespace ppd::cli
