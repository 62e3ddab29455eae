#include "ppd/microbench/bench_router.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace ppd::microbench {
namespace {

TEST(Percentile, NearestRank) {
  const std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_EQ(percentile(v, 0.0), 1);
  EXPECT_EQ(percentile(v, 0.2), 1);
  EXPECT_EQ(percentile(v, 0.5), 3);
  EXPECT_EQ(percentile(v, 0.99), 5);
  EXPECT_EQ(percentile(v, 1.0), 5);
  EXPECT_EQ(percentile({7}, 0.5), 7);
}

TEST(Percentile, P99OfAHundredIsTheNinetyNinth) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  EXPECT_EQ(percentile(v, 0.99), 99);
  EXPECT_EQ(percentile(v, 0.50), 50);
}

TEST(Summarize, EmptyAndFilled) {
  EXPECT_EQ(summarize({}).count, 0);
  const LatencySummary s = summarize({3, -1, 2});
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(s.p50_us, 2);
  EXPECT_EQ(s.p99_us, 3);
  EXPECT_EQ(s.max_us, 3);
}

TEST(ParseProcStatus, ReadsTheFields) {
  const std::string text =
      "Name:\tppd\nVmPeak:\t  900 kB\nVmHWM:\t   51234 kB\nVmRSS:\t   40960 kB\nRssAnon:\t 1 kB\nThreads:\t3\n";
  const Result<ProcStatus> p = parse_proc_status(text);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->vm_rss_kib, 40960);
  EXPECT_EQ(p->vm_hwm_kib, 51234);
  EXPECT_EQ(p->num_threads, 3);
}

TEST(ParseProcStatus, NamesTheMissingField) {
  const Result<ProcStatus> p = parse_proc_status("VmRSS:\t1 kB\nVmHWM:\t2 kB\n");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "proc status: Threads: must start a line and be followed by a number");
}

TEST(ReadProcStatus, ThisProcess) {
  const Result<ProcStatus> p = read_proc_status(::getpid());
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_GT(p->vm_rss_kib, 0);
  EXPECT_GE(p->vm_hwm_kib, p->vm_rss_kib);
  EXPECT_GE(p->num_threads, 1);
}

}  // namespace
}  // namespace ppd::microbench
