#include "cli/table.h"

#include <gtest/gtest.h>

namespace cairn::cli {
namespace {

TEST(TableTest, AlignsColumnsWithoutTrailingBlanks) {
  EXPECT_EQ(FormatTable({"VERSION", "STAGE", "SOURCE"},
                        {{"10", "Production", "runs:/abc/model"}, {"9", "None", "s3://b/m"}}),
            "VERSION  STAGE       SOURCE\n"
            "10       Production  runs:/abc/model\n"
            "9        None        s3://b/m\n");
}

TEST(TableTest, HeaderOnlyWhenNoRows) { EXPECT_EQ(FormatTable({"A", "BB"}, {}), "A  BB\n"); }

TEST(TableTest, EmptyLastCellsLeaveNoTrailingSpace) {
  EXPECT_EQ(FormatTable({"NAME", "NOTE"}, {{"a", ""}, {"bbbbbb", "x"}}),
            "NAME    NOTE\n"
            "a\n"
            "bbbbbb  x\n");
}

TEST(TableTest, ShortAndLongRowsArePadded) {
  EXPECT_EQ(FormatTable({"A", "B"}, {{"1"}, {"1", "2", "3"}}),
            "A  B\n"
            "1\n"
            "1  2  3\n");
}

TEST(TableTest, WidthCountsUtf8Characters) {
  // "modèle" is 6 characters in 7 bytes; the next column starts after 6 + 2.
  EXPECT_EQ(FormatTable({"NAME", "V"}, {{"modèle", "1"}, {"ab", "2"}}),
            "NAME    V\n"
            "modèle  1\n"
            "ab      2\n");
}

TEST(TableTest, ControlCharactersCannotBreakLinesOrReachTheTerminal) {
  EXPECT_EQ(FormatTable({"NAME"}, {{"evil\nname\x1b[31m\t"}}),
            "NAME\n"
            "evil?name?[31m?\n");
}

TEST(TableTest, TimestampsAreUtc) {
  EXPECT_EQ(FormatTimestamp(0), "-");
  EXPECT_EQ(FormatTimestamp(-5), "-");
  EXPECT_EQ(FormatTimestamp(1'700'000'000'000), "2023-11-14 22:13:20");
  EXPECT_EQ(FormatTimestamp(1'700'000'000'999), "2023-11-14 22:13:20");
}

}  // namespace
}  // namespace cairn::cli
