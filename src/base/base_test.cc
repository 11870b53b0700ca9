#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <thread>

#include "base/factory_registry.h"
#include "base/ids.h"
#include "base/json.h"
#include "base/mutex.h"
#include "base/request_scope.h"
#include "base/status.h"
#include "base/uri.h"

namespace cairn {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd");
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, AssignOrReturnPropagatesFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "odd");
}

TEST(StatusTest, OkStatusInStatusOrBecomesInternal) {
  StatusOr<int> s = Status::Ok();
  EXPECT_EQ(s.status().code(), StatusCode::kInternal);
}

TEST(UriTest, ParsesSqliteAbsoluteAndRelative) {
  auto abs = Uri::Parse("sqlite:////tmp/x/meta.db");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->scheme, "sqlite");
  EXPECT_EQ(abs->path, "//tmp/x/meta.db");
  auto rel = Uri::Parse("sqlite:///meta.db");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->path, "/meta.db");
}

TEST(UriTest, ParsesAuthorityAndQuery) {
  auto u = Uri::Parse("postgresql://u:p@h:5432/db?sslmode=disable");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "postgresql");
  EXPECT_EQ(u->authority, "u:p@h:5432");
  EXPECT_EQ(u->path, "/db");
  EXPECT_EQ(u->query, "sslmode=disable");
  EXPECT_EQ(u->ToString(), "postgresql://u:p@h:5432/db?sslmode=disable");
}

TEST(UriTest, MlflowArtifactsHasNoAuthority) {
  auto u = Uri::Parse("mlflow-artifacts:/1/abc/artifacts");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "mlflow-artifacts");
  EXPECT_FALSE(u->has_authority);
  EXPECT_EQ(u->path, "/1/abc/artifacts");
}

TEST(UriTest, BarePathHasNoScheme) {
  auto u = Uri::Parse("./data/artifacts");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "");
  EXPECT_EQ(u->path, "./data/artifacts");
}

TEST(UriTest, PercentDecodeRejectsTruncatedEscape) {
  EXPECT_EQ(*PercentDecode("a%2Fb"), "a/b");
  EXPECT_FALSE(PercentDecode("a%2").ok());
  EXPECT_FALSE(PercentDecode("a%zz").ok());
  EXPECT_FALSE(PercentDecode("%").ok());
}

TEST(UriTest, PercentDecodeRefusesEveryMalformedEscape) {
  for (const char* bad : {"%", "%%", "%2", "a%", "a%2", "%%41", "%4%41", "%g0", "%0g", "% 1", "%-1",
                          "%+1", "%\\x", "ok%2Fthen%", "%C3%A"}) {
    auto decoded = PercentDecode(bad);
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(PercentDecode(bad, PlusSign::kSpace).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(UriTest, PercentDecodeGivesOctetsAsTheyAre) {
  EXPECT_EQ(*PercentDecode(""), "");
  EXPECT_EQ(*PercentDecode("no escapes"), "no escapes");
  EXPECT_EQ(*PercentDecode("%41%42c"), "ABc");
  EXPECT_EQ(*PercentDecode("%2f%2F%5c"), "//\\");
  EXPECT_EQ(*PercentDecode("%2e%2E"), "..");
  EXPECT_EQ(*PercentDecode("%252e"), "%2e") << "decoded exactly once";
  // NUL and bytes that are not UTF-8 come out as octets; callers decide what they accept.
  EXPECT_EQ(*PercentDecode("a%00b"), std::string("a\0b", 3));
  EXPECT_EQ(*PercentDecode("%C0%AF"), "\xC0\xAF");
  EXPECT_EQ(*PercentDecode("%ED%A0%80"), "\xED\xA0\x80");
  EXPECT_EQ(*PercentDecode("%FF"), "\xFF");
}

TEST(UriTest, PercentDecodeReadsPlusAsSpaceOnlyForForms) {
  EXPECT_EQ(*PercentDecode("a+b%2B"), "a+b+");
  EXPECT_EQ(*PercentDecode("a+b%2B", PlusSign::kSpace), "a b+");
}

TEST(IdGeneratorTest, Hex32IsUuid4Shaped) {
  IdGenerator gen(42);
  std::string id = gen.Hex32();
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(id[12], '4');
  EXPECT_NE(gen.Hex32(), id);
  for (char c : id) EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(c));
}

TEST(JsonTest, Int64AcceptsNumberOrString) {
  auto obj = *json::ParseObject(R"({"a": 5, "b": "7", "c": "x", "d": 1.5})");
  EXPECT_EQ(**json::GetInt64(obj, "a"), 5);
  EXPECT_EQ(**json::GetInt64(obj, "b"), 7);
  EXPECT_FALSE(json::GetInt64(obj, "c").ok());
  EXPECT_FALSE(json::GetInt64(obj, "d").ok());
  EXPECT_FALSE(json::GetInt64(obj, "missing")->has_value());
}

TEST(JsonTest, DoubleAcceptsNanAndInfinityStrings) {
  auto obj = *json::ParseObject(R"({"a": "NaN", "b": "-Infinity", "c": true})");
  EXPECT_TRUE(std::isnan(**json::GetDouble(obj, "a")));
  EXPECT_EQ(**json::GetDouble(obj, "b"), -INFINITY);
  EXPECT_FALSE(json::GetDouble(obj, "c").ok());
  EXPECT_EQ(json::Serialize(json::DoubleValue(NAN)), "\"NaN\"");
}

TEST(JsonTest, RejectsNonObjectsAndDeepNesting) {
  EXPECT_FALSE(json::ParseObject("[1,2]").ok());
  EXPECT_FALSE(json::ParseObject("{").ok());
  EXPECT_TRUE(json::ParseObject("").ok());
  std::string deep(1000, '[');
  EXPECT_FALSE(json::ParseObject("{\"a\":" + deep).ok());
  // A double-encoded body is decoded twice, as MLflow's server does.
  auto twice = json::ParseObject(R"("{\"k\": 1}")");
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(**json::GetInt64(*twice, "k"), 1);
}

TEST(JsonTest, DecimalsRoundTripExactly) {
  // Shortest round-trip forms that a one-ulp parsing error would change.
  for (const char* text : {"0.9933333333333333", "123456789.12345679", "0.1", "1e-300",
                           "2.2250738585072014e-308", "9007199254740993.0"}) {
    auto obj = json::ParseObject(std::string(R"({"v": )") + text + "}");
    ASSERT_TRUE(obj.ok()) << text;
    EXPECT_EQ(**json::GetDouble(*obj, "v"), std::strtod(text, nullptr)) << text;
  }
}

TEST(JsonTest, LastDuplicateKeyWins) {
  auto obj = json::ParseObject(R"({"k": 1, "k": 2})");
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(**json::GetInt64(*obj, "k"), 2);
}

TEST(FactoryRegistryTest, RejectsDuplicatesAndUnknownNames) {
  FactoryRegistry<std::unique_ptr<int>, int> registry;
  ASSERT_TRUE(
      registry
          .Register(
              "x", [](int v) -> StatusOr<std::unique_ptr<int>> { return std::make_unique<int>(v); })
          .ok());
  EXPECT_EQ(registry.Register("x", nullptr).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(**registry.Create("x", 3), 3);
  EXPECT_EQ(registry.Create("y", 3).status().code(), StatusCode::kInvalidArgument);
}

struct Flag {
  Mutex mu;
  std::condition_variable cv;
  bool set GUARDED_BY(mu) = false;
};

TEST(MutexLockTest, WaitReleasesTheMutexUntilNotified) {
  Flag flag;
  // The setter needs the mutex, so this returns only if Wait released it.
  std::thread setter([&flag] {
    MutexLock lock(flag.mu);
    flag.set = true;
    flag.cv.notify_one();
  });
  {
    MutexLock lock(flag.mu);
    while (!flag.set) lock.Wait(flag.cv);
  }
  setter.join();
}

TEST(MutexLockTest, UnlockLetsOthersInUntilLock) {
  Flag flag;
  MutexLock lock(flag.mu);
  lock.Unlock();
  std::thread([&flag] {
    MutexLock other(flag.mu);
    flag.set = true;
  }).join();
  lock.Lock();
  EXPECT_TRUE(flag.set);
}

TEST(RequestScopeTest, ForTenantRolesAndDeadline) {
  RequestScope scope = RequestScope::ForTenant("team-a");
  EXPECT_EQ(scope.tenant, "team-a");
  EXPECT_EQ(scope.principal, "system");
  EXPECT_FALSE(scope.HasRole("admin"));
  scope.roles = {"viewer", "admin"};
  EXPECT_TRUE(scope.HasRole("admin"));
  EXPECT_FALSE(scope.HasRole("adm"));

  auto now = RequestScope::Clock::now();
  EXPECT_TRUE(scope.CheckDeadline(now).ok());  // no deadline
  scope.deadline = now + std::chrono::seconds(1);
  EXPECT_TRUE(scope.CheckDeadline(now).ok());
  EXPECT_EQ(scope.CheckDeadline(now + std::chrono::seconds(2)).code(), StatusCode::kUnavailable);

  RequestScope request;  // what the middlewares start from
  EXPECT_EQ(request.tenant, "default");
  EXPECT_EQ(request.principal, "anonymous");
}

}  // namespace
}  // namespace cairn
