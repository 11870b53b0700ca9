#include "base/json.h"

#include <simdjson.h>

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

namespace {

constexpr int kMaxDepth = 64;

// Copies a simdjson DOM element into a boost::json::value. simdjson rounds decimal numbers
// exactly (Boost.JSON 1.81's parser can be one ulp off), which matters for metric values that
// must come back as they were sent.
Status Convert(simdjson::dom::element in, boost::json::value& out, int depth) {
  if (depth > kMaxDepth) return InvalidArgument("Malformed JSON in request body: too deep");
  switch (in.type()) {
    case simdjson::dom::element_type::OBJECT: {
      boost::json::object& obj = out.emplace_object();
      simdjson::dom::object src;
      if (in.get_object().get(src)) return InvalidArgument("Malformed JSON in request body");
      obj.reserve(src.size());
      for (auto field : src) {
        auto [it, inserted] = obj.emplace(field.key, nullptr);
        if (!inserted) it->value() = nullptr;  // the last duplicate wins, as in Python
        RETURN_IF_ERROR(Convert(field.value, it->value(), depth + 1));
      }
      return Status::Ok();
    }
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array src;
      if (in.get_array().get(src)) return InvalidArgument("Malformed JSON in request body");
      boost::json::array& arr = out.emplace_array();
      arr.reserve(src.size());
      for (simdjson::dom::element item : src) {
        arr.emplace_back(nullptr);
        RETURN_IF_ERROR(Convert(item, arr.back(), depth + 1));
      }
      return Status::Ok();
    }
    case simdjson::dom::element_type::INT64: {
      int64_t v = 0;
      if (in.get_int64().get(v)) break;
      out = v;
      return Status::Ok();
    }
    case simdjson::dom::element_type::UINT64: {
      uint64_t v = 0;
      if (in.get_uint64().get(v)) break;
      out = v;
      return Status::Ok();
    }
    case simdjson::dom::element_type::DOUBLE: {
      double v = 0;
      if (in.get_double().get(v)) break;
      out = v;
      return Status::Ok();
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view v;
      if (in.get_string().get(v)) break;
      out = v;
      return Status::Ok();
    }
    case simdjson::dom::element_type::BOOL: {
      bool v = false;
      if (in.get_bool().get(v)) break;
      out = v;
      return Status::Ok();
    }
    case simdjson::dom::element_type::NULL_VALUE:
      out = nullptr;
      return Status::Ok();
  }
  return InvalidArgument("Malformed JSON in request body");
}

StatusOr<boost::json::value> ParseValue(std::string_view text) {
  // One parser per thread: it keeps its buffers between requests.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto error = parser.parse(text.data(), text.size()).get(root);
  if (error) {
    return InvalidArgument(std::string("Malformed JSON in request body: ") +
                           simdjson::error_message(error));
  }
  boost::json::value out;
  RETURN_IF_ERROR(Convert(root, out, 0));
  return out;
}

}  // namespace

StatusOr<boost::json::object> ParseObject(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return boost::json::object();
  ASSIGN_OR_RETURN(boost::json::value v, ParseValue(body));
  // Legacy clients double-encode the body as a JSON string.
  if (v.is_string()) {
    std::string inner(v.as_string());
    ASSIGN_OR_RETURN(v, ParseValue(inner));
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

StatusOr<const boost::json::array*> GetArray(const boost::json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null())
    return static_cast<const boost::json::array*>(nullptr);
  if (!it->value().is_array()) return TypeError(key, "a list");
  return &it->value().as_array();
}

StatusOr<const boost::json::object*> GetObject(const boost::json::object& obj,
                                               std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null())
    return static_cast<const boost::json::object*>(nullptr);
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
