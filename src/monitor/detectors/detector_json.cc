#include "monitor/detectors/detector_json.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "base/json.h"

namespace cairn::monitor::detector_json {
namespace {

std::string Quote(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

std::string Describe(const boost::json::value& v) {
  std::string text = boost::json::serialize(v);
  if (text.size() > 40) text = text.substr(0, 40) + "...";
  return text;
}

Status ParamTypeError(std::string_view detector, std::string_view key, std::string_view expected,
                      const boost::json::value& v) {
  return InvalidArgument(std::string(detector) + ": parameter '" + std::string(key) + "' must be " +
                         std::string(expected) + ", got " + Describe(v));
}

}  // namespace

StatusOr<boost::json::object> ParseParams(std::string_view detector, std::string_view params_json,
                                          std::initializer_list<std::string_view> known) {
  auto parsed = json::ParseObject(params_json);
  if (!parsed.ok()) {
    return InvalidArgument(std::string(detector) +
                           ": parameters must be a JSON object: " + parsed.status().message());
  }
  for (const auto& [key, unused] : *parsed) {
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (!found) {
      std::string names;
      for (std::string_view k : known) names += (names.empty() ? "" : ", ") + std::string(k);
      return InvalidArgument(std::string(detector) + ": unknown parameter '" + std::string(key) +
                             "' (known: " + names + ")");
    }
  }
  return std::move(parsed).value();
}

StatusOr<double> NumberParam(const boost::json::object& params, std::string_view detector,
                             std::string_view key, double fallback) {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  const boost::json::value& v = it->value();
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  return ParamTypeError(detector, key, "a number", v);
}

StatusOr<int64_t> IntegerParam(const boost::json::object& params, std::string_view detector,
                               std::string_view key, int64_t fallback) {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  const boost::json::value& v = it->value();
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.as_uint64());
  }
  if (v.is_double() && std::trunc(v.as_double()) == v.as_double() &&
      std::fabs(v.as_double()) < 9.2e18) {
    return static_cast<int64_t>(v.as_double());
  }
  return ParamTypeError(detector, key, "an integer", v);
}

StatusOr<std::string> StringParam(const boost::json::object& params, std::string_view detector,
                                  std::string_view key, std::string_view fallback) {
  auto it = params.find(key);
  if (it == params.end()) return std::string(fallback);
  if (!it->value().is_string()) return ParamTypeError(detector, key, "a string", it->value());
  return std::string(it->value().as_string());
}

Status OutOfRange(std::string_view detector, std::string_view key, std::string_view requirement,
                  double value) {
  return InvalidArgument(std::string(detector) + ": parameter '" + std::string(key) + "' must be " +
                         std::string(requirement) + ", got " + FormatDouble(value));
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "\"NaN\"";
  if (std::isinf(v)) return v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  char buf[64];
  // 64 bytes hold any double's shortest form, so to_chars cannot fail here.
  std::string out(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
  // "-0", "1" or "12345678901234567000" would read back as an integer: keep them doubles.
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

void ObjectWriter::Key(std::string_view key) {
  if (out_.size() > 1) out_ += ',';
  out_ += '"';
  out_ += key;
  out_ += "\":";
}

ObjectWriter& ObjectWriter::Number(std::string_view key, double v) {
  Key(key);
  out_ += FormatDouble(v);
  return *this;
}

ObjectWriter& ObjectWriter::Integer(std::string_view key, int64_t v) {
  Key(key);
  out_ += std::to_string(v);
  return *this;
}

ObjectWriter& ObjectWriter::Bool(std::string_view key, bool v) {
  Key(key);
  out_ += v ? "true" : "false";
  return *this;
}

ObjectWriter& ObjectWriter::String(std::string_view key, std::string_view v) {
  Key(key);
  out_ += Quote(v);
  return *this;
}

ObjectWriter& ObjectWriter::Raw(std::string_view key, std::string_view json) {
  Key(key);
  out_ += json;
  return *this;
}

std::string ObjectWriter::Finish() {
  out_ += '}';
  return std::move(out_);
}

Status BadState(std::string_view detector, std::string_view message) {
  return InvalidArgument(std::string(detector) + " state: " + std::string(message));
}

StatusOr<boost::json::object> ParseState(std::string_view detector, std::string_view state_json) {
  auto parsed = json::ParseObject(state_json);
  if (!parsed.ok()) return BadState(detector, parsed.status().message());
  const boost::json::object& state = *parsed;
  auto name = state.find("detector");
  if (name == state.end() || !name->value().is_string() || name->value().as_string() != detector) {
    return BadState(detector, "\"detector\" must be " + Quote(detector));
  }
  ASSIGN_OR_RETURN(int64_t version, StateInteger(state, detector, "version"));
  if (version != 1) return BadState(detector, "unsupported version " + std::to_string(version));
  return std::move(parsed).value();
}

StatusOr<double> AsStateNumber(const boost::json::value& v, std::string_view detector,
                               std::string_view what) {
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_string()) {
    if (v.as_string() == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (v.as_string() == "Infinity") return std::numeric_limits<double>::infinity();
    if (v.as_string() == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return BadState(detector, "'" + std::string(what) + "' must be a number, got " + Describe(v));
}

StatusOr<double> StateNumber(const boost::json::object& state, std::string_view detector,
                             std::string_view key) {
  auto it = state.find(key);
  if (it == state.end()) return BadState(detector, "missing '" + std::string(key) + "'");
  return AsStateNumber(it->value(), detector, key);
}

StatusOr<int64_t> StateInteger(const boost::json::object& state, std::string_view detector,
                               std::string_view key) {
  auto it = state.find(key);
  if (it == state.end()) return BadState(detector, "missing '" + std::string(key) + "'");
  if (it->value().is_int64()) return it->value().as_int64();
  return BadState(detector,
                  "'" + std::string(key) + "' must be an integer, got " + Describe(it->value()));
}

StatusOr<bool> StateBool(const boost::json::object& state, std::string_view detector,
                         std::string_view key) {
  auto it = state.find(key);
  if (it == state.end()) return BadState(detector, "missing '" + std::string(key) + "'");
  if (it->value().is_bool()) return it->value().as_bool();
  return BadState(detector,
                  "'" + std::string(key) + "' must be a boolean, got " + Describe(it->value()));
}

}  // namespace cairn::monitor::detector_json
