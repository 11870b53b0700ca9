#include "cli/progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace cairn::cli {
namespace {

using namespace std::chrono_literals;

TEST(FormatProgressTest, SizesShareAndRate) {
  EXPECT_EQ(FormatProgress(12'345'678, 45'600'000, 0.5), "12.3 MB / 45.6 MB (27.1%), 24.7 MB/s");
  EXPECT_EQ(FormatProgress(0, 1000, 0), "0.0 MB / 0.0 MB (0.0%)");
  EXPECT_EQ(FormatProgress(2'000'000, 0, 1), "2.0 MB, 2.0 MB/s");
}

struct FakeClock {
  UploadProgress::Clock::time_point now{};
  std::function<UploadProgress::Clock::time_point()> Fn() {
    return [this] { return now; };
  }
};

TEST(UploadProgressTest, ATerminalIsRedrawnAtMostEveryInterval) {
  FakeClock clock;
  std::ostringstream err;
  UploadProgress progress(err, "uploading f", 10'000'000, /*terminal=*/true, clock.Fn(), 200ms);
  for (int i = 1; i <= 100; ++i) {
    clock.now += 10ms;  // 1 s in all: 5 redraws at most, the first at once
    progress.Update(static_cast<uint64_t>(i) * 100'000);
  }
  progress.Finish();
  progress.Finish();
  const std::string text = err.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 6) << text;  // 5 redraws + the last
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_TRUE(text.ends_with("\ruploading f: 10.0 MB / 10.0 MB (100.0%), 10.0 MB/s\x1b[K\n"))
      << text;
}

TEST(UploadProgressTest, ElsewhereOnlyTheFinalLine) {
  FakeClock clock;
  std::ostringstream err;
  UploadProgress progress(err, "uploading f", 4'000'000, /*terminal=*/false, clock.Fn());
  for (int i = 1; i <= 4; ++i) {
    clock.now += 1s;
    progress.Update(static_cast<uint64_t>(i) * 1'000'000);
  }
  EXPECT_EQ(err.str(), "");
  progress.Finish();
  EXPECT_EQ(err.str(), "uploading f: 4.0 MB / 4.0 MB (100.0%), 1.0 MB/s\n");
}

}  // namespace
}  // namespace cairn::cli
