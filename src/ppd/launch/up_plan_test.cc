#include "ppd/launch/up_plan.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ppd/launch/up_cluster.h"

namespace ppd::launch {
namespace {

using Args = std::vector<std::string>;

TEST(UpPlanTest, ThreadsAreSplitEvenlyWithAtLeastOnePerNode) {
  EXPECT_EQ(threads_per_node(16, 2), 8);
  EXPECT_EQ(threads_per_node(16, 3), 5);
  EXPECT_EQ(threads_per_node(1, 4), 1);
  EXPECT_EQ(threads_per_node(0, 1), 1);
  EXPECT_EQ(threads_per_node(1024, 2), 256);  // ppd node's limit
}

TEST(UpPlanTest, SplitFlagsOnWhitespace) {
  EXPECT_EQ(split_flags(""), Args{});
  EXPECT_EQ(split_flags("   \t "), Args{});
  EXPECT_EQ(split_flags("--a 1  --b\t2\n--c"), (Args{"--a", "1", "--b", "2", "--c"}));
  EXPECT_EQ(split_flags(" --x "), Args{"--x"});
}

TEST(UpPlanTest, NodesArePrefillThenDecodeWithTheSameModelDirectory) {
  UpOptions o;
  o.num_prefill = 1;
  o.num_decode = 2;
  o.num_threads = 7;
  o.kv_cache_mib = 256;
  o.block_size = 32;
  o.host = "0.0.0.0";  // the router's; the nodes keep to node_host
  o.node_host = "127.0.0.2";
  const std::vector<ChildPlan> plans = plan_nodes(o, "/bin/ppd", "/models/tiny");
  ASSERT_EQ(plans.size(), 3u);
  EXPECT_EQ(plans[0].name, "prefill-0");
  EXPECT_EQ(plans[0].role, ChildRole::kPrefill);
  EXPECT_EQ(plans[0].argv,
            (Args{"/bin/ppd",     "node",      "--role",    "prefill",   "--model",        "/models/tiny",
                  "--name",       "prefill-0", "--host",    "127.0.0.2", "--port",         "0",
                  "--kv-port",    "0",         "--threads", "2",         "--kv-cache-mib", "256",
                  "--block-size", "32"}));
  EXPECT_EQ(plans[1].name, "decode-0");
  EXPECT_EQ(plans[1].role, ChildRole::kDecode);
  EXPECT_EQ(plans[2].name, "decode-1");
  EXPECT_EQ(plans[2].argv[3], "decode");
  EXPECT_EQ(plans[2].argv[7], "decode-1");
}

TEST(UpPlanTest, LinkFlagsGoToDecodeNodesOnlyAndNodeFlagsToAll) {
  UpOptions o;
  o.num_threads = 2;
  o.link_bytes_per_s = 2.5e9;
  o.link_latency_us = 30;
  o.node_flags = "--max-model-len 512 --kernels scalar";
  const std::vector<ChildPlan> plans = plan_nodes(o, "ppd", "/m");
  ASSERT_EQ(plans.size(), 2u);
  const Args prefill_tail(plans[0].argv.end() - 4, plans[0].argv.end());
  EXPECT_EQ(prefill_tail, (Args{"--max-model-len", "512", "--kernels", "scalar"}));
  EXPECT_EQ(plans[0].argv.size(), 24u);
  const Args decode_tail(plans[1].argv.end() - 8, plans[1].argv.end());
  EXPECT_EQ(decode_tail, (Args{"--link-bytes-per-s", "2500000000", "--link-latency-us", "30", "--max-model-len", "512",
                               "--kernels", "scalar"}));
}

TEST(UpPlanTest, PrecisionFlagsGoToEveryNodeWhenSet) {
  UpOptions o;
  EXPECT_EQ(plan_nodes(o, "ppd", "/m")[0].argv.size(), 20u);  // defaults: no flag
  o.dtype = "bf16";
  for (const ChildPlan& plan : plan_nodes(o, "ppd", "/m")) {
    EXPECT_EQ(Args(plan.argv.end() - 2, plan.argv.end()), (Args{"--dtype", "bf16"})) << plan.name;
  }
  o.dtype = "auto";
  o.quantize = "q8_0";
  for (const ChildPlan& plan : plan_nodes(o, "ppd", "/m")) {
    EXPECT_EQ(Args(plan.argv.end() - 2, plan.argv.end()), (Args{"--quantize", "q8_0"})) << plan.name;
  }
}

TEST(UpPlanTest, OnlyDecodeNodes) {
  UpOptions o;
  o.num_prefill = 0;
  o.num_decode = 1;
  o.num_threads = 4;
  const std::vector<ChildPlan> plans = plan_nodes(o, "ppd", "/m");
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0].name, "decode-0");
  EXPECT_EQ(plans[0].argv[15], "4");  // --threads: the whole budget
}

TEST(UpPlanTest, RouterGetsTargetsPolicyAndExtraFlags) {
  UpOptions o;
  o.policy = "pd";
  o.port = 9000;
  o.api_key = "never-on-a-command-line";
  o.api_key_file = "/logs/api-key";
  o.cluster_secret_file = "/etc/ppd/secret";
  o.router_flags = " --max-body-bytes 1000 ";
  const ChildPlan plan =
      plan_router(o, "/bin/ppd", "/m", {.prefill = {"127.0.0.1:1", "127.0.0.1:2"}, .decode = {"127.0.0.1:3"}});
  EXPECT_EQ(plan.name, "router");
  EXPECT_EQ(plan.role, ChildRole::kRouter);
  EXPECT_EQ(plan.argv, (Args{"/bin/ppd",
                             "router",
                             "--model",
                             "/m",
                             "--prefill",
                             "127.0.0.1:1,127.0.0.1:2",
                             "--decode",
                             "127.0.0.1:3",
                             "--policy",
                             "pd",
                             "--host",
                             "127.0.0.1",
                             "--port",
                             "9000",
                             "--api-key-file",
                             "/logs/api-key",
                             "--cluster-secret-file",
                             "/etc/ppd/secret",
                             "--max-body-bytes",
                             "1000"}));
  const ChildPlan node = plan_nodes(o, "/bin/ppd", "/m")[0];
  const Args node_tail(node.argv.end() - 2, node.argv.end());
  EXPECT_EQ(node_tail, (Args{"--cluster-secret-file", "/etc/ppd/secret"}));
}

TEST(UpPlanTest, RouterWithoutPrefillNodesHasNoPrefillFlag) {
  const ChildPlan plan = plan_router(UpOptions{}, "ppd", "/m", {.decode = {"h:1", "h:2"}});
  EXPECT_EQ(plan.argv, (Args{"ppd", "router", "--model", "/m", "--decode", "h:1,h:2", "--policy", "ppd", "--host",
                             "127.0.0.1", "--port", "8000"}));
}

TEST(UpPlanTest, ReadyLineValues) {
  const std::string node = "ppd node ready name=decode-0 role=decode http=127.0.0.1:40123 kv=127.0.0.1:40124";
  EXPECT_EQ(*ready_line_value(node, "http"), "127.0.0.1:40123");
  EXPECT_EQ(*ready_line_value(node, "kv"), "127.0.0.1:40124");
  EXPECT_EQ(*ready_line_value("ppd router ready http=127.0.0.1:8000 policy=ppd", "http"), "127.0.0.1:8000");
  EXPECT_EQ(ready_line_value("ppd node ready xhttp=1 http= kv=2", "http").status().to_string(),
            "INVALID_ARGUMENT: ready line: no non-empty http= value; got \"ppd node ready xhttp=1 http= kv=2\"");
}

TEST(UpPlanTest, RestartsBackOffFromOneSecondDoublingToThirty) {
  EXPECT_EQ(restart_delay_ms(1), 1000);
  EXPECT_EQ(restart_delay_ms(2), 2000);
  EXPECT_EQ(restart_delay_ms(5), 16000);
  EXPECT_EQ(restart_delay_ms(6), 30000);
  EXPECT_EQ(restart_delay_ms(1000), 30000);
}

TEST(UpPlanTest, ARestartedChildKeepsThePortsOfItsFirstStart) {
  UpOptions o;
  o.node_flags = "--kernels scalar";
  const ChildPlan node = plan_nodes(o, "ppd", "/m")[1];
  const Result<ChildPlan> pinned =
      pin_ports(node, "ppd node ready name=decode-0 role=decode http=127.0.0.1:40123 kv=127.0.0.1:40124");
  ASSERT_TRUE(pinned.ok()) << pinned.status().to_string();
  Args expected = node.argv;
  expected[11] = "40123";  // --port
  expected[13] = "40124";  // --kv-port
  EXPECT_EQ(pinned->argv, expected);
  const ChildPlan router = plan_router(UpOptions{.port = 0}, "ppd", "/m", {.decode = {"h:1"}});
  const Result<ChildPlan> router_pinned = pin_ports(router, "ppd router ready http=[::1]:8123 policy=ppd");
  ASSERT_TRUE(router_pinned.ok());
  EXPECT_EQ(router_pinned->argv[11], "8123");
  EXPECT_FALSE(pin_ports(router, "ppd router ready").ok());
}

}  // namespace
}  // namespace ppd::launch
