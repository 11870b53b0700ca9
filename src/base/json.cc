#include "base/json.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace cairn::json {
namespace {

Status TypeError(std::string_view what, std::string_view expected) {
  return InvalidArgument("Invalid value for parameter '" + std::string(what) +
                         "' supplied: expected " + std::string(expected));
}

}  // namespace

StatusOr<boost::json::object> ParseObject(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return boost::json::object();
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 64;
  boost::json::value v = boost::json::parse(body, ec, {}, opts);
  if (ec) return InvalidArgument("Malformed JSON in request body: " + ec.message());
  // Legacy clients double-encode the body as a JSON string.
  if (v.is_string()) {
    v = boost::json::parse(v.as_string(), ec, {}, opts);
    if (ec) return InvalidArgument("Malformed JSON in request body: " + ec.message());
  }
  if (!v.is_object()) return InvalidArgument("Request body must be a JSON object");
  return std::move(v.as_object());
}

StatusOr<std::string> AsString(const boost::json::value& v, std::string_view what) {
  if (!v.is_string()) return TypeError(what, "a string");
  return std::string(v.as_string());
}

StatusOr<int64_t> AsInt64(const boost::json::value& v, std::string_view what) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) {
    if (v.as_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return TypeError(what, "a 64-bit integer");
    }
    return static_cast<int64_t>(v.as_uint64());
  }
  if (v.is_double()) {
    double d = v.as_double();
    if (std::trunc(d) == d && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
    return TypeError(what, "an integer");
  }
  if (v.is_string()) {
    std::string_view s = v.as_string();
    int64_t out = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) return out;
  }
  return TypeError(what, "an integer");
}

StatusOr<double> AsDouble(const boost::json::value& v, std::string_view what) {
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_string()) {
    std::string_view s = v.as_string();
    if (s == "NaN" || s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
    double out = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) return out;
  }
  return TypeError(what, "a number");
}

StatusOr<std::optional<std::string>> GetString(const boost::json::object& obj,
                                               std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string s, AsString(it->value(), key));
  return std::optional<std::string>(std::move(s));
}

StatusOr<std::optional<int64_t>> GetInt64(const boost::json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return std::optional<int64_t>();
  ASSIGN_OR_RETURN(int64_t v, AsInt64(it->value(), key));
  return std::optional<int64_t>(v);
}

StatusOr<std::optional<double>> GetDouble(const boost::json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return std::optional<double>();
  ASSIGN_OR_RETURN(double v, AsDouble(it->value(), key));
  return std::optional<double>(v);
}

StatusOr<std::optional<bool>> GetBool(const boost::json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return std::optional<bool>();
  if (it->value().is_bool()) return std::optional<bool>(it->value().as_bool());
  if (it->value().is_string()) {
    std::string s(it->value().as_string());
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "true") return std::optional<bool>(true);
    if (s == "false") return std::optional<bool>(false);
  }
  return TypeError(key, "a boolean");
}

StatusOr<const boost::json::array*> GetArray(const boost::json::object& obj,
                                             std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return static_cast<const boost::json::array*>(nullptr);
  if (!it->value().is_array()) return TypeError(key, "a list");
  return &it->value().as_array();
}

StatusOr<const boost::json::object*> GetObject(const boost::json::object& obj,
                                               std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return static_cast<const boost::json::object*>(nullptr);
  if (!it->value().is_object()) return TypeError(key, "an object");
  return &it->value().as_object();
}

boost::json::value DoubleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

std::string Serialize(const boost::json::value& v) { return boost::json::serialize(v); }

}  // namespace cairn::json
