#include "ppd/common/secret.h"

#include <stdlib.h>

#include <set>

#include <gtest/gtest.h>

#include "ppd/common/test_temp_dir.h"

namespace ppd {
namespace {

TEST(SecretTest, FileGivesItsFirstLineTrimmedAndNeverEchoesTheSecret) {
  TempDir dir;
  EXPECT_EQ(*read_secret_file(dir.write("s", "  0123456789abcdef0123  \nsecond line\n"), "--api-key-file"),
            "0123456789abcdef0123");
  const Status short_secret = read_secret_file(dir.write("short", "tooshort\n"), "--api-key-file").status();
  EXPECT_EQ(short_secret.message(),
            fmt::format("--api-key-file \"{}\": the secret must be 16 to 1024 bytes; got 8", dir.file("short")));
  EXPECT_EQ(short_secret.message().find("tooshort"), std::string::npos);
  EXPECT_EQ(read_secret_file(dir.file("missing"), "--cluster-secret-file").status().message(),
            fmt::format("--cluster-secret-file: cannot read \"{}\": No such file or directory", dir.file("missing")));
  EXPECT_FALSE(read_secret_file(dir.write("long", std::string(2000, 'x')), "--api-key-file").ok());
}

TEST(SecretTest, ClusterSecretFromFileElseEnvironmentElseNone) {
  TempDir dir;
  ::unsetenv("PPD_CLUSTER_SECRET");
  EXPECT_EQ(*load_cluster_secret(""), "");
  ::setenv("PPD_CLUSTER_SECRET", "env-secret-0123456789", 1);
  EXPECT_EQ(*load_cluster_secret(""), "env-secret-0123456789");
  EXPECT_EQ(*load_cluster_secret(dir.write("f", "file-secret-0123456789\n")), "file-secret-0123456789");
  ::setenv("PPD_CLUSTER_SECRET", "short", 1);
  EXPECT_EQ(load_cluster_secret("").status().message(),
            "PPD_CLUSTER_SECRET: the secret must be 16 to 1024 bytes; got 5");
  ::unsetenv("PPD_CLUSTER_SECRET");
}

TEST(SecretTest, GeneratedSecretsAndIdsDiffer) {
  const std::string a = generate_secret();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, generate_secret());
  std::set<uint64_t> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(random_u64());
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(SecretTest, ComparisonsAndBearerHeaders) {
  EXPECT_TRUE(secret_equals("abc", "abc"));
  EXPECT_FALSE(secret_equals("abc", "abd"));
  EXPECT_FALSE(secret_equals("abc", "ab"));
  EXPECT_FALSE(secret_equals("abc", "abcd"));
  EXPECT_TRUE(bearer_matches("s3cret-0123456789", "Bearer s3cret-0123456789"));
  EXPECT_FALSE(bearer_matches("s3cret-0123456789", "Bearer s3cret-012345678"));
  EXPECT_FALSE(bearer_matches("s3cret-0123456789", "s3cret-0123456789"));
  EXPECT_FALSE(bearer_matches("s3cret-0123456789", ""));
}

}  // namespace
}  // namespace ppd
