#pragma once

// Internal to the detectors library: reading river-named parameters and writing and reading
// detector state as JSON. Doubles are written in their shortest round-trip form and read back
// with an exact parser (json::ParseObject), so a saved state restores bit for bit; infinities
// and NaN are written as the strings "Infinity", "-Infinity" and "NaN".

#include <boost/json.hpp>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn::monitor::detector_json {

// Parses `params_json` (empty text means {}) and rejects any key not in `known`, naming the
// detector and the key.
StatusOr<boost::json::object> ParseParams(std::string_view detector, std::string_view params_json,
                                          std::initializer_list<std::string_view> known);

// A parameter's value, or `fallback` when absent. A number must be a JSON number; an integer a
// JSON number with no fractional part; a string a JSON string. Errors name detector and key.
StatusOr<double> NumberParam(const boost::json::object& params, std::string_view detector,
                             std::string_view key, double fallback);
StatusOr<int64_t> IntegerParam(const boost::json::object& params, std::string_view detector,
                               std::string_view key, int64_t fallback);
StatusOr<std::string> StringParam(const boost::json::object& params, std::string_view detector,
                                  std::string_view key, std::string_view fallback);

// INVALID_ARGUMENT "<detector>: parameter '<key>' must be <requirement>, got <value>".
Status OutOfRange(std::string_view detector, std::string_view key, std::string_view requirement,
                  double value);

// The shortest text that reads back as exactly `v` (never a bare integer beyond 2^53).
std::string FormatDouble(double v);

// Builds one flat JSON object; keys are plain identifiers and are not escaped.
class ObjectWriter {
 public:
  ObjectWriter& Number(std::string_view key, double v);
  ObjectWriter& Integer(std::string_view key, int64_t v);
  ObjectWriter& Bool(std::string_view key, bool v);
  ObjectWriter& String(std::string_view key, std::string_view v);
  // `json` must be valid JSON text.
  ObjectWriter& Raw(std::string_view key, std::string_view json);
  // Closes the object and hands its text over; the writer is spent afterwards.
  std::string Finish();

 private:
  void Key(std::string_view key);
  std::string out_ = "{";
};

// Reads a detector state: checks that "detector" is `detector` and "version" is 1.
StatusOr<boost::json::object> ParseState(std::string_view detector, std::string_view state_json);

// Required state fields; errors name the detector and the field.
StatusOr<double> StateNumber(const boost::json::object& state, std::string_view detector,
                             std::string_view key);
StatusOr<int64_t> StateInteger(const boost::json::object& state, std::string_view detector,
                               std::string_view key);
StatusOr<bool> StateBool(const boost::json::object& state, std::string_view detector,
                         std::string_view key);
// A JSON number or one of the non-finite strings above, for array elements.
StatusOr<double> AsStateNumber(const boost::json::value& v, std::string_view detector,
                               std::string_view what);

// INVALID_ARGUMENT "<detector> state: <message>".
Status BadState(std::string_view detector, std::string_view message);

}  // namespace cairn::monitor::detector_json
