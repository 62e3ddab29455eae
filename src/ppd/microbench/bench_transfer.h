// `ppd bench transfer`: KV transfer throughput on loopback, in one process (the servers'
// io_context on one thread, the client's on another). (a) TcpKvTransport pulls next to (b) a
// plain TCP socket copy of the same bytes, interleaved pairwise so both see the same machine
// load, reporting medians and the median per-pair ratio (target >= 0.80); (c) pulls through
// an EmulatedLinkTransport against its configured bandwidth (target within 5%), after the
// throughput of the transport under the link alone (the link cannot beat it). Not
// thread-safe; one run at a time.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "ppd/common/status.h"

namespace ppd::microbench {

struct TransferBenchOptions {
  std::vector<int> sizes_mib = {1, 4, 16, 64};          // bytes per pull, in MiB; [1, 1024]
  int64_t block_bytes = int64_t{256} << 10;             // [4096, 64 MiB]
  int repeats = 5;                                      // timed samples per size; [1, 1000]
  std::vector<double> link_bytes_per_s = {2e9, 200e6};  // emulated links; 0 entries are skipped
  std::string link_inner = "in-process";                // transport under the link: in-process or tcp
};

struct TransferBenchRow {
  std::string test;               // "tcp pull" or "link 2000 MB/s"
  int64_t bytes = 0;              // per pull
  double mb_per_s = 0;            // median achieved, 1e6 bytes/s
  double reference_mb_per_s = 0;  // median socket copy, or the configured link bandwidth
  std::string reference;          // "socket copy" or "configured"
  double ratio = 0;               // median of per-sample achieved / reference
  double min_ratio = 0;           // target range of the ratio
  double max_ratio = 0;
  bool has_target = true;  // false: an informational row (no reference, no ratio)
};

Result<std::vector<TransferBenchRow>> run_transfer_bench(const TransferBenchOptions& options, std::ostream& log);
std::string format_transfer_bench(const std::vector<TransferBenchRow>& rows, const TransferBenchOptions& options,
                                  const std::string& machine);
std::string transfer_bench_json(const std::vector<TransferBenchRow>& rows, const TransferBenchOptions& options,
                                const std::string& machine);

// Adds `transfer` to the `ppd bench` command.

}  // namespace ppd::microbench
