#pragma once

#include <cstdint>
#include <string>

namespace cairn {

// Proleptic Gregorian calendar arithmetic on days since 1970-01-01 (Howard Hinnant's
// algorithms), valid for any int64 day count a timestamp in milliseconds can give.
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day);
void CivilFromDays(int64_t days, int64_t& year, int64_t& month, int64_t& day);

// "2025-01-02T03:04:05": the UTC date and time of a Unix time in seconds (no zone, no fraction).
std::string FormatUtcSeconds(int64_t unix_seconds);

// A UTC instant as Python's datetime.fromtimestamp(t, timezone.utc).isoformat() writes it:
// "2025-01-02T03:04:05+00:00", with ".ffffff" microseconds only when they are not zero.
std::string PythonIsoFormatUtc(int64_t unix_micros);

}  // namespace cairn
