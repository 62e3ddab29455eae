#include "ppd/launch/up_process.h"

#include <filesystem>
#include <utility>

#include "ppd/launch/up_plan.h"

namespace ppd::launch {

Result<std::unique_ptr<UpProcess>> UpProcess::start(UpProcessOptions o) {
  PPD_ASSIGN_OR_RETURN(const std::string binary, self_binary_path());
  std::filesystem::create_directories(o.log_dir);
  std::vector<std::string> argv = {binary, "up"};
  argv.insert(argv.end(), o.up_flags.begin(), o.up_flags.end());
  argv.insert(argv.end(), {"--log-dir", o.log_dir});
  std::unique_ptr<UpProcess> up(new UpProcess());
  up->stop_grace_ms_ = o.stop_grace_ms;
  PPD_ASSIGN_OR_RETURN(up->child_,
                       ChildProcess::spawn({.argv = std::move(argv), .stderr_path = o.log_dir + "/up.log"}));
  PPD_ASSIGN_OR_RETURN(const std::string line, up->child_->wait_for_line("ppd up ready", o.ready_timeout_ms));
  PPD_ASSIGN_OR_RETURN(up->http_address_, ready_line_value(line, "http"));
  return up;
}

UpProcess::~UpProcess() {
  if (child_) child_->terminate(stop_grace_ms_);
}

}  // namespace ppd::launch
