#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn::json {

// Helpers for reading protocol JSON with proto3-JSON leniency: int64 as number or string,
// doubles as number or "NaN"/"Infinity"/"-Infinity", unknown fields ignored. Each getter returns
// nullopt when the field is absent or null, and an INVALID_ARGUMENT status naming the field when
// present with the wrong type.

StatusOr<boost::json::object> ParseObject(std::string_view body);

StatusOr<std::optional<std::string>> GetString(const boost::json::object& obj,
                                               std::string_view key);
StatusOr<std::optional<int64_t>> GetInt64(const boost::json::object& obj, std::string_view key);
StatusOr<std::optional<double>> GetDouble(const boost::json::object& obj, std::string_view key);
StatusOr<std::optional<bool>> GetBool(const boost::json::object& obj, std::string_view key);
// An array field; nullptr when absent or null.
StatusOr<const boost::json::array*> GetArray(const boost::json::object& obj, std::string_view key);
StatusOr<const boost::json::object*> GetObject(const boost::json::object& obj,
                                               std::string_view key);

// Reads a value as the above do, for array elements.
StatusOr<std::string> AsString(const boost::json::value& v, std::string_view what);
StatusOr<int64_t> AsInt64(const boost::json::value& v, std::string_view what);
StatusOr<double> AsDouble(const boost::json::value& v, std::string_view what);

// Writes a double as proto3 JSON does: finite numbers as numbers, the rest as strings.
boost::json::value DoubleValue(double v);

std::string Serialize(const boost::json::value& v);

}  // namespace cairn::json
