// The pure half of `ppd up`: its options, the command lines of the nodes and of the router built
// from them, the split of the thread budget and the reading of "ready" lines. Every child gets
// the already resolved model directory, never a preset name, so a preset is synthesized once.
// Pure functions of their arguments; safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::launch {

struct UpOptions {
  std::string model = "tiny";            // model directory or preset, resolved once by `ppd up`
  int num_prefill = 1;                   // prefill nodes, >= 0
  int num_decode = 1;                    // decode nodes, >= 1
  std::string policy = "ppd";            // router policy, checked by the router
  std::string host = "127.0.0.1";        // the router binds here (the public side)
  std::string node_host = "127.0.0.1";   // the nodes bind here (the internal side)
  int port = 8000;                       // router HTTP port; the nodes take free ports
  int num_threads = 1;                   // compute threads for all nodes together
  int64_t kv_cache_mib = 1024;           // KV block pool per node, MiB
  int block_size = 16;                   // tokens per KV block
  std::string dtype = "auto";            // every node's --dtype
  std::string quantize = "none";         // every node's --quantize
  std::string kv_dtype = "auto";         // every node's --kv-dtype
  double link_bytes_per_s = 0;           // decode nodes' emulated KV link bandwidth; 0: off
  int64_t link_latency_us = 0;           // decode nodes' emulated KV link latency; 0: none
  std::string api_key;                   // "": the router asks for none; written to a file for the router
  std::string api_key_file;              // passed to the router as --api-key-file
  std::string cluster_secret_file;       // passed to every child; "": $PPD_CLUSTER_SECRET (made if unset)
  std::string router_flags;              // extra router flags, split on whitespace
  std::string node_flags;                // extra flags for every node, split on whitespace
  std::string log_dir;                   // "": a new ppd-up-XXXXXX directory under $TMPDIR or /tmp
  int64_t startup_timeout_ms = 120'000;  // for all nodes to be ready, then again for the router
  bool restart = true;                   // a child that exits unexpectedly is started again, with backoff
};

enum class ChildRole { kPrefill, kDecode, kRouter };

// One child of `ppd up`.
struct ChildPlan {
  std::string name;  // "prefill-0", "decode-1", "router"; also the log file's stem
  ChildRole role = ChildRole::kRouter;
  std::vector<std::string> argv;  // argv[0]: the ppd binary
};

// The nodes' HTTP addresses ("host:port") the router is pointed at.
struct RouterTargets {
  std::vector<std::string> prefill;
  std::vector<std::string> decode;
};

// Returns the threads of each node: num_threads / num_nodes, at least 1 and at most 256
// (ppd node's limit). REQUIRES: num_nodes >= 1.
int threads_per_node(int num_threads, int num_nodes);

// Splits `flags` on whitespace (no quoting); "" gives none.
std::vector<std::string> split_flags(std::string_view flags);

// Returns the prefill nodes, then the decode nodes: `<binary> node --role ... --model <model_dir>
// --name ... --host <node_host> --port 0 --kv-port 0 --threads ... --kv-cache-mib ... --block-size
// ...`, --dtype, --quantize and --kv-dtype when not the defaults, the link flags (decode nodes only, those
// set), --cluster-secret-file when set, then options.node_flags.
std::vector<ChildPlan> plan_nodes(const UpOptions& options, const std::string& binary, const std::string& model_dir);

// Returns `<binary> router --model <model_dir> [--prefill a,b] --decode c,d --policy ... --host ...
// --port ... [--api-key-file ...] [--cluster-secret-file ...]` and then options.router_flags;
// --prefill only with prefill targets. The API key itself never goes on a command line.
ChildPlan plan_router(const UpOptions& options, const std::string& binary, const std::string& model_dir,
                      const RouterTargets& targets);

// The wait before restart number `restart` (1 for the first) of a child that exited: 1 s, doubling
// up to 30 s.
int64_t restart_delay_ms(int restart);

// Returns `plan` with the ports its first start bound (the http= and kv= values of its ready line)
// in place of its --port and --kv-port values, so that a restarted child comes back where the
// router and the other nodes look for it. INVALID_ARGUMENT when the line lacks http=.
Result<ChildPlan> pin_ports(ChildPlan plan, std::string_view ready_line);

// Returns the value of the `key=value` word of a ready line, e.g. "127.0.0.1:40123" for key
// "http" in "ppd node ready name=decode-0 role=decode http=127.0.0.1:40123 kv=...", or
// INVALID_ARGUMENT naming the key and the line when it is missing or empty.
Result<std::string> ready_line_value(std::string_view line, std::string_view key);

}  // namespace ppd::launch
