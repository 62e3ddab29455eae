// Measurement side of `ppd bench transfer` (see bench_transfer.h): a block source over one
// buffer, a plain TCP copy server for the baseline, and the timed loops.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <ostream>
#include <thread>

#include <sys/prctl.h>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "ppd/common/clock.h"
#include "ppd/microbench/bench_transfer.h"
#include "ppd/microbench/bench_util.h"
#include "ppd/transfer/emulated_link.h"
#include "ppd/transfer/in_process_transport.h"
#include "ppd/transfer/tcp_transport.h"

namespace ppd::microbench {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using transfer::KvTransport;
using transfer::PullRequest;
using transfer::PullResult;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr uint64_t kHandle = 1;
// Lets one system call move up to 16 MiB, as the KV transport does (asio's default stops
// each at 64 KiB), so that the baseline is the best plain copy.
constexpr auto kLargeTransfers = [](const boost::system::error_code& ec, size_t) -> size_t {
  return ec ? 0 : size_t{16} << 20;
};
constexpr int64_t kMinBytesPerSample = int64_t{64} << 20;  // TCP samples repeat small pulls up to this
constexpr double kMinLinkSecondsPerSample = 0.05;          // link samples repeat small pulls up to this

// One pinned handle whose blocks are consecutive slices of one buffer. Read-only; thread-safe.
class BenchSource final : public transfer::BlockSource {
 public:
  BenchSource(int64_t total_bytes, int64_t block_bytes)
      : bytes_(static_cast<size_t>(total_bytes)), block_bytes_(static_cast<size_t>(block_bytes)) {
    for (size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = static_cast<uint8_t>(i * 131 + (i >> 12));
  }
  std::span<const uint8_t> bytes() const { return bytes_; }

  Result<std::vector<std::span<const uint8_t>>> resolve(uint64_t handle, std::span<const uint32_t> indices) override {
    if (handle != kHandle) return not_found("handle {}: not pinned", handle);
    std::vector<std::span<const uint8_t>> spans;
    for (uint32_t index : indices) {
      if ((size_t{index} + 1) * block_bytes_ > bytes_.size()) return invalid_argument("index {}: past the end", index);
      spans.emplace_back(bytes_.data() + size_t{index} * block_bytes_, block_bytes_);
    }
    return spans;
  }
  void release(uint64_t) override {}

 private:
  std::vector<uint8_t> bytes_;
  size_t block_bytes_;
};

// The baseline: reads a u64 byte count, answers with that many bytes of `bytes` in one write.
asio::awaitable<void> serve_socket_copy(tcp::socket socket, std::span<const uint8_t> bytes) {
  for (;;) {
    uint64_t n = 0;
    auto [ec, got] = co_await asio::async_read(socket, asio::buffer(&n, sizeof n), kTuple);
    if (ec || n > bytes.size()) co_return;
    auto [ec2, sent] = co_await asio::async_write(socket, asio::buffer(bytes.data(), n), kLargeTransfers, kTuple);
    if (ec2) co_return;
  }
}

asio::awaitable<void> accept_socket_copies(tcp::acceptor& acceptor, std::span<const uint8_t> bytes) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) co_return;
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve_socket_copy(std::move(socket), bytes), asio::detached);
  }
}

asio::awaitable<Result<double>> time_pulls(KvTransport& transport, const PullRequest& request,
                                           std::span<const std::span<uint8_t>> dest, int iterations) {
  const SteadyClock clock;
  const int64_t start_ns = clock.now_ns();
  for (int i = 0; i < iterations; ++i) {
    Result<PullResult> r = co_await transport.pull(request, dest);
    if (!r.ok()) co_return r.status();
  }
  co_return static_cast<double>(clock.now_ns() - start_ns) * 1e-9;
}

asio::awaitable<Result<double>> time_socket_copies(tcp::socket& socket, std::span<uint8_t> dest, int iterations) {
  const SteadyClock clock;
  const int64_t start_ns = clock.now_ns();
  const uint64_t n = dest.size();
  for (int i = 0; i < iterations; ++i) {
    auto [ec, sent] = co_await asio::async_write(socket, asio::buffer(&n, sizeof n), kTuple);
    if (ec) co_return unavailable("socket copy: send: {}", ec.message());
    auto [ec2, got] = co_await asio::async_read(socket, asio::buffer(dest), kLargeTransfers, kTuple);
    if (ec2) co_return unavailable("socket copy: after {} of {} bytes: {}", got, n, ec2.message());
  }
  co_return static_cast<double>(clock.now_ns() - start_ns) * 1e-9;
}

int64_t bytes_of(std::span<const std::span<uint8_t>> dest) {
  int64_t n = 0;
  for (const std::span<uint8_t>& d : dest) n += static_cast<int64_t>(d.size());
  return n;
}

// Runs `task` on `ctx` from this thread until it finishes.
template <typename T>
T run_on(asio::io_context& ctx, asio::awaitable<T> task) {
  std::optional<T> out;
  asio::co_spawn(
      ctx, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(task)); },
      [&](std::exception_ptr e) {
        ctx.stop();
        if (e) std::rethrow_exception(e);
      });
  ctx.restart();
  ctx.run();
  return std::move(*out);
}

// Pairs of (achieved, reference) bytes/s -> one row of medians.
TransferBenchRow summarize_transfer(std::string test, std::string reference, int64_t bytes,
                                    const std::vector<std::pair<double, double>>& samples) {
  std::vector<double> achieved, ref, ratio;
  for (const auto& [a, r] : samples) {
    achieved.push_back(a / 1e6);
    ref.push_back(r / 1e6);
    ratio.push_back(a / r);
  }
  TransferBenchRow row;
  row.test = std::move(test);
  row.reference = std::move(reference);
  row.bytes = bytes;
  row.mb_per_s = median(achieved);
  row.reference_mb_per_s = median(ref);
  row.ratio = median(ratio);
  return row;
}

// Everything one run needs: servers on their own thread, the clients on the calling thread.
class TransferBench {
 public:
  explicit TransferBench(const TransferBenchOptions& options);
  ~TransferBench();
  Status start();
  Result<TransferBenchRow> measure_tcp(int64_t bytes, std::ostream& log);
  Result<TransferBenchRow> measure_link(double bytes_per_s, int64_t bytes, std::ostream& log);
  // The transport under the link, without it.
  Result<TransferBenchRow> measure_link_inner(int64_t bytes, std::ostream& log);

 private:
  KvTransport& link_inner();
  std::string link_inner_source() const;
  PullRequest request_for(const std::string& source, int64_t bytes) const;
  std::vector<std::span<uint8_t>> dest_for(int64_t bytes);
  Status check_one_pull(KvTransport& transport, const PullRequest& request, std::span<const std::span<uint8_t>> dest);

  TransferBenchOptions options_;
  int64_t max_bytes_;
  BenchSource source_;  // outlives the servers' coroutines
  asio::io_context server_ctx_;
  asio::io_context client_ctx_;
  std::optional<transfer::TcpKvServer> kv_server_;
  std::optional<tcp::acceptor> copy_acceptor_;
  std::thread server_thread_;
  transfer::TcpKvTransport tcp_client_;
  transfer::InProcessRegistry registry_;
  transfer::InProcessKvTransport in_process_client_{&registry_};
  std::optional<tcp::socket> copy_client_;
  std::string kv_address_;
  std::vector<uint8_t> dest_bytes_;
};

int64_t max_pull_bytes(const TransferBenchOptions& o) {
  const int max_mib = *std::max_element(o.sizes_mib.begin(), o.sizes_mib.end());
  return std::max<int64_t>(int64_t{max_mib} << 20, o.block_bytes);
}

TransferBench::TransferBench(const TransferBenchOptions& options)
    : options_(options),
      max_bytes_(max_pull_bytes(options)),
      source_(max_bytes_, options.block_bytes),
      tcp_client_(client_ctx_.get_executor()),
      dest_bytes_(static_cast<size_t>(max_bytes_), 0) {}

TransferBench::~TransferBench() {
  if (kv_server_) kv_server_->stop();
  server_ctx_.stop();
  if (server_thread_.joinable()) server_thread_.join();
}

Status TransferBench::start() {
  PPD_RETURN_IF_ERROR(registry_.add("bench", &source_));
  kv_server_.emplace(server_ctx_.get_executor(), &source_);
  PPD_ASSIGN_OR_RETURN(const uint16_t kv_port, kv_server_->start());
  kv_address_ = fmt::format("127.0.0.1:{}", kv_port);
  const tcp::endpoint any_port(asio::ip::make_address("127.0.0.1"), 0);
  copy_acceptor_.emplace(server_ctx_, any_port);
  asio::co_spawn(server_ctx_, accept_socket_copies(*copy_acceptor_, source_.bytes()), asio::detached);
  copy_client_.emplace(client_ctx_);
  boost::system::error_code ec;
  copy_client_->connect(copy_acceptor_->local_endpoint(), ec);
  if (ec) return unavailable("socket copy: connect: {}", ec.message());
  copy_client_->set_option(tcp::no_delay(true));
  server_thread_ = std::thread([this] {
    auto work = asio::make_work_guard(server_ctx_);
    server_ctx_.run();
  });
  return Status::Ok();
}

PullRequest TransferBench::request_for(const std::string& source, int64_t bytes) const {
  PullRequest request{source, kHandle, {}};
  const int64_t num_blocks = std::max<int64_t>(1, bytes / options_.block_bytes);
  for (int64_t i = 0; i < num_blocks; ++i) request.indices.push_back(static_cast<uint32_t>(i));
  return request;
}

std::vector<std::span<uint8_t>> TransferBench::dest_for(int64_t bytes) {
  std::vector<std::span<uint8_t>> dest;
  const int64_t num_blocks = std::max<int64_t>(1, bytes / options_.block_bytes);
  for (int64_t i = 0; i < num_blocks; ++i) {
    dest.emplace_back(dest_bytes_.data() + i * options_.block_bytes, static_cast<size_t>(options_.block_bytes));
  }
  return dest;
}

Status TransferBench::check_one_pull(KvTransport& transport, const PullRequest& request,
                                     std::span<const std::span<uint8_t>> dest) {
  Result<PullResult> r = run_on(client_ctx_, transport.pull(request, dest));
  if (!r.ok()) return r.status();
  return transfer::verify_checksums(request, dest, r->checksums);
}

Result<TransferBenchRow> TransferBench::measure_tcp(int64_t bytes, std::ostream& log) {
  const PullRequest request = request_for(kv_address_, bytes);
  const std::vector<std::span<uint8_t>> dest = dest_for(bytes);
  const int64_t pulled = bytes_of(dest);
  const int iterations = static_cast<int>(std::max<int64_t>(1, kMinBytesPerSample / pulled));
  PPD_RETURN_IF_ERROR(check_one_pull(tcp_client_, request, dest));  // also warms the connection
  const std::span<uint8_t> copy_dest(dest_bytes_.data(), static_cast<size_t>(pulled));
  std::vector<std::pair<double, double>> samples;
  for (int r = 0; r < options_.repeats; ++r) {
    PPD_ASSIGN_OR_RETURN(const double pull_s, run_on(client_ctx_, time_pulls(tcp_client_, request, dest, iterations)));
    PPD_ASSIGN_OR_RETURN(const double copy_s,
                         run_on(client_ctx_, time_socket_copies(*copy_client_, copy_dest, iterations)));
    const double moved = static_cast<double>(pulled) * iterations;
    samples.emplace_back(moved / pull_s, moved / copy_s);
    log << fmt::format("ppd bench transfer: tcp {} bytes x{} sample {}/{}: pull {:.1f} MB/s, socket copy {:.1f} MB/s\n",
                       pulled, iterations, r + 1, options_.repeats, moved / pull_s / 1e6, moved / copy_s / 1e6);
  }
  TransferBenchRow row = summarize_transfer("tcp pull", "socket copy", pulled, samples);
  row.min_ratio = 0.80;
  row.max_ratio = INFINITY;
  return row;
}

KvTransport& TransferBench::link_inner() {
  if (options_.link_inner == "tcp") return tcp_client_;
  return in_process_client_;
}

std::string TransferBench::link_inner_source() const { return options_.link_inner == "tcp" ? kv_address_ : "bench"; }

Result<TransferBenchRow> TransferBench::measure_link_inner(int64_t bytes, std::ostream& log) {
  const PullRequest request = request_for(link_inner_source(), bytes);
  const std::vector<std::span<uint8_t>> dest = dest_for(bytes);
  const int64_t pulled = bytes_of(dest);
  const int iterations = static_cast<int>(std::max<int64_t>(1, kMinBytesPerSample / pulled));
  PPD_RETURN_IF_ERROR(check_one_pull(link_inner(), request, dest));
  std::vector<std::pair<double, double>> samples;
  for (int r = 0; r < options_.repeats; ++r) {
    PPD_ASSIGN_OR_RETURN(const double seconds,
                         run_on(client_ctx_, time_pulls(link_inner(), request, dest, iterations)));
    const double achieved = static_cast<double>(pulled) * iterations / seconds;
    samples.emplace_back(achieved, achieved);
    log << fmt::format("ppd bench transfer: {} pull {} bytes x{} sample {}/{}: {:.1f} MB/s\n", options_.link_inner,
                       pulled, iterations, r + 1, options_.repeats, achieved / 1e6);
  }
  TransferBenchRow row =
      summarize_transfer(fmt::format("{} pull (link inner)", options_.link_inner), "-", pulled, samples);
  row.has_target = false;
  return row;
}

Result<TransferBenchRow> TransferBench::measure_link(double bytes_per_s, int64_t bytes, std::ostream& log) {
  transfer::EmulatedLinkOptions link_options;
  link_options.bandwidth_bytes_per_s = bytes_per_s;
  PPD_ASSIGN_OR_RETURN(std::unique_ptr<transfer::EmulatedLinkTransport> link,
                       transfer::EmulatedLinkTransport::create(link_inner(), link_options));
  const PullRequest request = request_for(link_inner_source(), bytes);
  const std::vector<std::span<uint8_t>> dest = dest_for(bytes);
  const int64_t pulled = bytes_of(dest);
  const int iterations =
      static_cast<int>(std::max(1.0, std::ceil(kMinLinkSecondsPerSample * bytes_per_s / static_cast<double>(pulled))));
  PPD_RETURN_IF_ERROR(check_one_pull(*link, request, dest));
  std::vector<std::pair<double, double>> samples;
  for (int r = 0; r < options_.repeats; ++r) {
    PPD_ASSIGN_OR_RETURN(const double seconds, run_on(client_ctx_, time_pulls(*link, request, dest, iterations)));
    const double achieved = static_cast<double>(pulled) * iterations / seconds;
    samples.emplace_back(achieved, bytes_per_s);
    log << fmt::format("ppd bench transfer: link {:.0f} MB/s {} bytes x{} sample {}/{}: {:.1f} MB/s\n",
                       bytes_per_s / 1e6, pulled, iterations, r + 1, options_.repeats, achieved / 1e6);
  }
  TransferBenchRow row = summarize_transfer(
      fmt::format("link {:.0f} MB/s ({})", bytes_per_s / 1e6, options_.link_inner), "configured", pulled, samples);
  row.min_ratio = 0.95;
  row.max_ratio = 1.05;
  return row;
}

Status validate(const TransferBenchOptions& o) {
  if (o.sizes_mib.empty()) return invalid_argument("--sizes-mib: must list at least one size");
  for (int s : o.sizes_mib) {
    if (s < 1 || s > 1024) return invalid_argument("--sizes-mib: each must be in [1, 1024]; got {}", s);
  }
  if (o.block_bytes < 4096 || o.block_bytes > (int64_t{64} << 20)) {
    return invalid_argument("--block-bytes: must be in [4096, 67108864]; got {}", o.block_bytes);
  }
  if (o.repeats < 1 || o.repeats > 1000) return invalid_argument("--repeats: must be in [1, 1000]; got {}", o.repeats);
  if (o.link_inner != "in-process" && o.link_inner != "tcp") {
    return invalid_argument("--link-inner: unknown \"{}\"; supported: in-process, tcp", o.link_inner);
  }
  for (double b : o.link_bytes_per_s) {
    if (!(b >= 0) || !std::isfinite(b)) {
      return invalid_argument("--link-bytes-per-s: each must be > 0 (or 0 to skip); got {}", b);
    }
  }
  return Status::Ok();
}

// Sets this thread's timer slack (Linux) for its lifetime, then restores it: with the
// default 50 us, the emulated link's timers fire late enough to skew small pulls.
class TimerSlackScope {
 public:
  explicit TimerSlackScope(unsigned long slack_ns) : saved_ns_(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)) {
    prctl(PR_SET_TIMERSLACK, slack_ns, 0, 0, 0);
  }
  ~TimerSlackScope() {
    if (saved_ns_ > 0) prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(saved_ns_), 0, 0, 0);
  }
  TimerSlackScope(const TimerSlackScope&) = delete;
  TimerSlackScope& operator=(const TimerSlackScope&) = delete;

 private:
  int saved_ns_;
};

}  // namespace

Result<std::vector<TransferBenchRow>> run_transfer_bench(const TransferBenchOptions& options, std::ostream& log) {
  PPD_RETURN_IF_ERROR(validate(options));
  const TimerSlackScope slack(1);
  TransferBench bench(options);
  PPD_RETURN_IF_ERROR(bench.start());
  std::vector<TransferBenchRow> rows;
  for (int mib : options.sizes_mib) {
    PPD_ASSIGN_OR_RETURN(TransferBenchRow row, bench.measure_tcp(int64_t{mib} << 20, log));
    rows.push_back(std::move(row));
  }
  const bool any_link =
      std::any_of(options.link_bytes_per_s.begin(), options.link_bytes_per_s.end(), [](double b) { return b > 0; });
  if (any_link) {
    const int max_mib = *std::max_element(options.sizes_mib.begin(), options.sizes_mib.end());
    PPD_ASSIGN_OR_RETURN(TransferBenchRow row, bench.measure_link_inner(int64_t{max_mib} << 20, log));
    rows.push_back(std::move(row));
  }
  for (double bytes_per_s : options.link_bytes_per_s) {
    if (bytes_per_s == 0) continue;
    for (int mib : options.sizes_mib) {
      PPD_ASSIGN_OR_RETURN(TransferBenchRow row, bench.measure_link(bytes_per_s, int64_t{mib} << 20, log));
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace ppd::microbench
