#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::cli {

// Renders rows under a header as left-aligned columns separated by two spaces, one line per
// row, each ending in '\n', without trailing blanks. Widths count UTF-8 characters, not bytes.
// Control characters in cells (newlines, tabs, terminal escapes) are shown as '?' so a value
// from the server can neither break the layout nor drive the terminal. Rows shorter than the
// header are padded with empty cells; extra cells are kept.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// Milliseconds since the epoch as "YYYY-MM-DD HH:MM:SS" in UTC; 0 or less gives "-".
std::string FormatTimestamp(int64_t millis);

}  // namespace cairn::cli
