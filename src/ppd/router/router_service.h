// RouterService: the router's request path. For each OpenAI request: authenticate,
// validate, build the prompt (reusing this router's own token ids for earlier answers),
// admit, ask the policy for a path, run it on the nodes (remote: /prefill on P, then
// /decode on D; local: /generate on D), relay the tokens to the client, and retry on another
// path or node when an attempt fails before the client saw anything. Runs on the router's
// single-threaded executor with the ClusterView it shares with the ClusterMonitor; not
// thread-safe. The CPU-heavy part of a request (parsing its body, rendering and tokenizing its
// prompt, hashing its blocks) runs on a small pool of its own, so that no request can stall
// the event loop that also reads the nodes' load reports.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "ppd/common/clock.h"
#include "ppd/net/response_writer.h"
#include "ppd/net/server_request.h"
#include "ppd/router/cluster_monitor.h"
#include "ppd/router/prompt_builder.h"
#include "ppd/router/router_metrics.h"
#include "ppd/routing/policy.h"
#include "ppd/routing/router_ledger.h"

namespace ppd::router {

struct RouterServiceOptions {
  std::string served_model_name;                 // the only `model` accepted; also listed by /v1/models
  std::string api_key;                           // "": no authentication
  bool protect_status = false;                   // with a key: /metrics and /health's node details need it
  int max_active_requests = 4096;                // more in flight: 429; >= 1
  int max_waiting_per_node = 256;                // every healthy decode node queues more: 429; >= 1
  int max_attempts = 3;                          // tries before the first token, across paths and nodes; >= 1
  int64_t prefill_timeout_ms = 120'000;          // one /prefill call
  int64_t stream_timeout_ms = 3'600'000;         // one /generate or /decode stream, whole
  int64_t first_token_timeout_ms = 600'000;      // a stream's first output
  int64_t token_timeout_ms = 60'000;             // between a stream's outputs
  int64_t conversation_store_tokens = 16 << 20;  // token budget of remembered answers
  int64_t rate_window_ms = 10'000;               // window of the request rate given to policies
  size_t max_sessions = 100'000;                 // session key -> decode node entries kept
  int num_prepare_threads = 2;                   // threads that parse and tokenize requests; >= 1
};

class RouterService {
 public:
  // Every pointer must outlive the service. `ledger` keeps the view the monitor follows; its rate
  // window is options.rate_window_ms (RouterRuntime makes it so).
  RouterService(RouterServiceOptions options, routing::RouterLedger* ledger, ClusterMonitor* monitor,
                const routing::RoutingPolicy* policy, router::PromptBuilder prompts, RouterMetrics* metrics,
                const Clock* clock);

  // POST /v1/chat/completions and /v1/completions.
  boost::asio::awaitable<void> serve(const net::HttpRequest& request, net::ResponseWriter& writer,
                                     router::ApiKind kind);
  // UNAUTHENTICATED-style check: OK when no key is set or the Bearer token matches.
  bool authorized(const net::HttpRequest& request) const;
  const RouterServiceOptions& options() const { return options_; }
  int num_active() const { return num_active_; }

  struct Prepared;  // one validated request (router_service.cc)
  struct Prepare;   // what the pool returns: a Prepared or the reason for refusing the request

 private:
  boost::asio::awaitable<Result<std::unique_ptr<Prepared>>> prepare(const net::HttpRequest& request,
                                                                    router::ApiKind kind);
  // On the pool: everything of prepare() that reads only the request, the facts and const state.
  static boost::asio::awaitable<Prepare> prepare_off_loop(const RouterService* self, const net::HttpRequest* request,
                                                          router::ApiKind kind, std::optional<EngineFacts> facts);
  Result<std::unique_ptr<Prepared>> build_prepared(const net::HttpRequest& request, router::ApiKind kind,
                                                   const std::optional<EngineFacts>& facts) const;
  Status admit() const;
  boost::asio::awaitable<Status> run(Prepared& p, net::ResponseWriter& writer);
  void finish(Prepared& p, const routing::RouteDecision& d, const class ResponseRelay& relay);
  void note_prediction(const routing::RouteDecision& d, std::string_view turn, const std::string& path, double ttft,
                       double tpot);

  RouterServiceOptions options_;
  routing::RouterLedger* ledger_;
  routing::ClusterView* view_;  // the ledger's
  ClusterMonitor* monitor_;
  const routing::RoutingPolicy* policy_;
  router::PromptBuilder prompts_;
  mutable router::ConversationStore store_;  // thread-safe; read while preparing on the pool
  RouterMetrics* metrics_;
  const Clock* clock_;
  struct Session {
    NodeId decode;            // the decode node that answered its last turn
    int64_t answered_ns = 0;  // when that answer's last token arrived (router clock)
  };
  std::unordered_map<std::string, Session> sessions_;
  uint64_t next_id_ = 1;
  int num_active_ = 0;
  // Last: joined first on destruction, while what its jobs read is still there.
  std::unique_ptr<boost::asio::thread_pool> prepare_pool_;
};

}  // namespace ppd::router
