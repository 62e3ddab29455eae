#include <gtest/gtest.h>
#include <CLI/CLI.hpp>

#include "ppd/cli/commands.h"

namespace ppd::cli {
namespace {

TEST(UpCommandTest, FlagsHaveDefaultsAndRanges) {
  CLI::App app;
  int exit_code = -1;
  register_up_command(app, &exit_code);
  CLI::App* up = app.get_subcommand("up");
  EXPECT_EQ(up->get_option("--model")->get_default_str(), "tiny");
  EXPECT_EQ(up->get_option("--port")->get_default_str(), "8000");
  EXPECT_EQ(up->get_option("--startup-timeout-ms")->get_default_str(), "120000");
  const char* bad_decode[] = {"ppd", "up", "--decode", "0"};
  EXPECT_THROW(app.parse(4, bad_decode), CLI::ValidationError);
  EXPECT_EQ(exit_code, -1);
  EXPECT_NE(up->get_option("--no-restart"), nullptr);
}

}  // namespace
}  // namespace ppd::cli
