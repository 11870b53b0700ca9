#include "cli/table.h"

#include <algorithm>
#include <ctime>

namespace cairn::cli {
namespace {

std::string Sanitize(std::string_view cell) {
  std::string out;
  out.reserve(cell.size());
  for (char c : cell) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out;
}

// Characters, counting each UTF-8 lead byte (continuation bytes are 10xxxxxx).
size_t DisplayWidth(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> lines;
  lines.reserve(rows.size() + 1);
  size_t columns = header.size();
  for (const auto& row : rows) columns = std::max(columns, row.size());
  auto add = [&](const std::vector<std::string>& cells) {
    std::vector<std::string> line(columns);
    for (size_t i = 0; i < cells.size(); ++i) line[i] = Sanitize(cells[i]);
    lines.push_back(std::move(line));
  };
  add(header);
  for (const auto& row : rows) add(row);

  std::vector<size_t> widths(columns, 0);
  for (const auto& line : lines) {
    for (size_t i = 0; i < columns; ++i) widths[i] = std::max(widths[i], DisplayWidth(line[i]));
  }
  std::string out;
  for (const auto& line : lines) {
    std::string text;
    for (size_t i = 0; i < columns; ++i) {
      if (i > 0) text += "  ";
      text += line[i];
      text.append(widths[i] - DisplayWidth(line[i]), ' ');
    }
    text.erase(text.find_last_not_of(' ') + 1);
    out += text;
    out += '\n';
  }
  return out;
}

std::string FormatTimestamp(int64_t millis) {
  if (millis <= 0) return "-";
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr) return "-";
  char buffer[32];
  size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buffer, n);
}

}  // namespace cairn::cli
