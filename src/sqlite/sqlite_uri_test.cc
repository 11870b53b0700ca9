#include "sqlite/sqlite_uri.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::sqlite {
namespace {

std::string Path(std::string_view text) {
  auto uri = Uri::Parse(text);
  EXPECT_TRUE(uri.ok()) << text;
  if (!uri.ok()) return "";
  auto path = PathFromUri(*uri);
  return path.ok() ? *path : "error: " + path.status().ToString();
}

TEST(SqliteUriTest, NamesFilesAsMlflowDoes) {
  EXPECT_EQ(Path("sqlite:///events.db"), "events.db");
  EXPECT_EQ(Path("sqlite:///data/events.db"), "data/events.db");
  EXPECT_EQ(Path("sqlite:////var/lib/cairn/events.db"), "/var/lib/cairn/events.db");
  EXPECT_EQ(Path("sqlite://data/events.db"), "data/events.db");
  EXPECT_EQ(Path("sqlite:///my%20data/e.db"), "my data/e.db");
  EXPECT_EQ(Path("sqlite://"), ":memory:");
  EXPECT_EQ(Path("sqlite:///:memory:"), ":memory:");
  EXPECT_EQ(Path("sqlite:///x%00y.db").rfind("error: INVALID_ARGUMENT", 0), 0u);
  EXPECT_EQ(Path("file:///x.db").rfind("error: INVALID_ARGUMENT", 0), 0u);
}

TEST(SqliteUriTest, ParsesQueryOptions) {
  auto none = ParseUriQuery("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->synchronous_full.has_value());
  EXPECT_FALSE(none->reader_connections.has_value());

  auto set = ParseUriQuery("synchronous=full&readers=2");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->synchronous_full, true);
  EXPECT_EQ(set->reader_connections, 2);
  auto normal = ParseUriQuery("synchronous=NORMAL");
  ASSERT_TRUE(normal.ok());
  EXPECT_EQ(normal->synchronous_full, false);

  for (const char* bad : {"synchronous=off", "readers=65", "readers=-1", "readers=2x", "cache=1"}) {
    EXPECT_EQ(ParseUriQuery(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace cairn::sqlite
