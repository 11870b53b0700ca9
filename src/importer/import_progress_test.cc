#include "importer/import_progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace cairn::importer {
namespace {

TEST(ImportProgressTest, BarShowsShareAndCounts) {
  EXPECT_EQ(ProgressBar("runs", 5, 10, 10), "runs               [#####-----]       5/10");
  EXPECT_EQ(ProgressBar("traces", 0, 0, 4), "traces             [####]       0/0");
  EXPECT_EQ(ProgressBar("runs", 12, 10, 4), "runs               [####]      12/10");
}

TEST(ImportProgressTest, PipePrintsQuartersAndOneLinePerKindEnd) {
  std::ostringstream out;
  ImportProgress progress(out, /*terminal=*/false);
  for (int i = 0; i <= 100; ++i) progress.Update("runs", i, 100);
  progress.Update("traces", 0, 0);
  progress.Finish();
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 6) << text;  // 0, 25, 50, 75, 100 + 1
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(ImportProgressTest, TerminalRedrawsInPlaceAtMostEveryInterval) {
  std::ostringstream out;
  auto t = ImportProgress::Clock::time_point{};
  ImportProgress progress(
      out, /*terminal=*/true, [&] { return t; }, std::chrono::milliseconds(100));
  for (int i = 0; i < 50; ++i) progress.Update("runs", i, 50);  // no time passes: one draw
  progress.Update("runs", 50, 50);                              // completion always draws
  progress.Finish();
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 2) << text;
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace cairn::importer
