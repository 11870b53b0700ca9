#include "cli/progress.h"

#include <cstdio>

namespace cairn::cli {

std::string FormatProgress(uint64_t sent, uint64_t total, double seconds) {
  char buffer[128];
  const double mb = static_cast<double>(sent) / 1e6;
  int n = 0;
  if (total > 0) {
    n = std::snprintf(buffer, sizeof buffer, "%.1f MB / %.1f MB (%.1f%%)", mb,
                      static_cast<double>(total) / 1e6,
                      100.0 * static_cast<double>(sent) / static_cast<double>(total));
  } else {
    n = std::snprintf(buffer, sizeof buffer, "%.1f MB", mb);
  }
  std::string out(buffer, static_cast<size_t>(n));
  if (seconds > 0) {
    n = std::snprintf(buffer, sizeof buffer, ", %.1f MB/s", mb / seconds);
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

UploadProgress::UploadProgress(std::ostream& err, std::string label, uint64_t total, bool terminal,
                               std::function<Clock::time_point()> now,
                               std::chrono::milliseconds interval)
    : err_(err),
      label_(std::move(label)),
      total_(total),
      terminal_(terminal),
      now_(std::move(now)),
      interval_(interval),
      start_(now_()) {}

std::string UploadProgress::Line() const {
  const double seconds = std::chrono::duration<double>(now_() - start_).count();
  return label_ + ": " + FormatProgress(sent_, total_, seconds);
}

void UploadProgress::Update(uint64_t sent) {
  sent_ = sent;
  if (!terminal_ || finished_) return;
  const Clock::time_point now = now_();
  if (drawn_ && now - last_drawn_ < interval_) return;
  last_drawn_ = now;
  drawn_ = true;
  err_ << '\r' << Line() << "\x1b[K" << std::flush;
}

void UploadProgress::Finish() {
  if (finished_) return;
  finished_ = true;
  if (terminal_) err_ << '\r';
  err_ << Line() << (terminal_ ? "\x1b[K\n" : "\n") << std::flush;
}

}  // namespace cairn::cli
