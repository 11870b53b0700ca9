#include "importer/import_progress.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace cairn::importer {

std::string ProgressBar(std::string_view kind, int64_t done, int64_t total, int width) {
  const int filled =
      total <= 0 ? width : static_cast<int>(std::min<int64_t>(done, total) * width / total);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(width - filled), '-');
  char counts[64];
  std::snprintf(counts, sizeof counts, "%8lld/%lld", static_cast<long long>(done),
                static_cast<long long>(total));
  std::string name(kind);
  if (name.size() < 18) name.append(18 - name.size(), ' ');
  return name + " [" + bar + "]" + counts;
}

ImportProgress::ImportProgress(std::ostream& err, bool terminal,
                               std::function<Clock::time_point()> now,
                               std::chrono::milliseconds interval)
    : err_(err), terminal_(terminal), now_(std::move(now)), interval_(interval) {}

void ImportProgress::Update(std::string_view kind, int64_t done, int64_t total) {
  const bool complete = done >= total;
  if (kind != kind_) {
    Finish();
    kind_ = std::string(kind);
    last_quarter_ = -1;
    last_drawn_ = {};
  }
  if (terminal_) {
    const Clock::time_point now = now_();
    if (!complete && line_open_ && now - last_drawn_ < interval_) return;
    last_drawn_ = now;
    err_ << "\r" << ProgressBar(kind, done, total) << "\033[K" << std::flush;
    line_open_ = true;
    return;
  }
  const int quarter = total <= 0 ? 4 : static_cast<int>(std::min<int64_t>(done, total) * 4 / total);
  if (quarter == last_quarter_) return;
  last_quarter_ = quarter;
  err_ << ProgressBar(kind, done, total) << "\n" << std::flush;
}

void ImportProgress::Finish() {
  if (line_open_) err_ << "\n" << std::flush;
  line_open_ = false;
}

}  // namespace cairn::importer
