#include "tracking/assessment_metrics.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "base/civil_time.h"
#include "metadata/names.h"

namespace cairn::tracking {
namespace {

namespace bj = boost::json;
using A = AggregationType;

constexpr std::string_view kAssessmentCount = "assessment_count";
constexpr std::string_view kAssessmentName = "assessment_name";
constexpr std::string_view kAssessmentValue = "assessment_value";
constexpr std::string_view kTimeBucket = "time_bucket";

std::optional<std::string_view> FindEntry(const std::vector<metadata::Tag>& entries,
                                          std::string_view key) {
  for (const metadata::Tag& t : entries) {
    if (t.key == key) return std::string_view(t.value);
  }
  return std::nullopt;
}

StatusOr<bool> Matches(const metadata::TraceInfo& trace, const metadata::Assessment& a,
                       const TraceMetricsFilter& f) {
  if (f.view_type == "span") {
    return InvalidArgument(
        "Filtering by span is only supported for SPANS view type, got "
        "ASSESSMENTS");
  }
  if (f.view_type == "assessment") {
    if (f.entity == "name") return a.name == f.value;
    return (a.kind == metadata::AssessmentKind::kFeedback ? "feedback" : "expectation") == f.value;
  }
  if (f.entity == "status") return metadata::TraceStateName(trace.state) == f.value;
  std::optional<std::string_view> v =
      FindEntry(f.entity == "tag" ? trace.tags : trace.trace_metadata, f.key);
  return v && *v == f.value;
}

int64_t BucketStart(int64_t ms, int64_t seconds) {
  __int128 size = static_cast<__int128>(seconds) * 1000;
  __int128 q = ms / size;
  if ((ms % size != 0) && ((ms < 0) != (size < 0))) --q;
  __int128 start = q * size;
  if (start > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (start < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(start);
}

void AppendPythonJsonString(std::string_view s, std::string& out) {
  out += '"';
  // json.dumps escapes every non-ASCII code point (ensure_ascii); bytes of UTF-8 sequences are
  // decoded here for that.
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    char buf[16];
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      continue;
    }
    uint32_t cp = 0;
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
    cp = c & (extra == 3 ? 0x07 : extra == 2 ? 0x0F : 0x1F);
    for (int k = 0; k < extra && i + 1 < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F);
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
    } else {
      std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
    }
    out += buf;
  }
  out += '"';
}

void AppendPythonJson(const bj::value& v, std::string& out, int depth) {
  switch (v.kind()) {
    case bj::kind::null:
      out += "null";
      return;
    case bj::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case bj::kind::int64:
      out += PythonFloatRepr(static_cast<double>(v.get_int64()));
      return;
    case bj::kind::uint64:
      out += PythonFloatRepr(static_cast<double>(v.get_uint64()));
      return;
    case bj::kind::double_: {
      double d = v.get_double();
      out += std::isfinite(d) ? PythonFloatRepr(d)
                              : (std::isnan(d) ? "NaN"
                                 : d > 0       ? "Infinity"
                                               : "-Infinity");
      return;
    }
    case bj::kind::string:
      AppendPythonJsonString(v.get_string(), out);
      return;
    case bj::kind::array: {
      out += '[';
      bool first = true;
      for (const bj::value& item : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        if (depth < 64) AppendPythonJson(item, out, depth + 1);
      }
      out += ']';
      return;
    }
    case bj::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        AppendPythonJsonString(key, out);
        out += ": ";
        if (depth < 64) AppendPythonJson(item, out, depth + 1);
      }
      out += '}';
      return;
    }
  }
}

struct Group {
  std::vector<double> numbers;
};

}  // namespace

std::string PythonFloatRepr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, ec == std::errc() ? end : buf);
  // sci: [-]d[.ddd]e[+-]XX
  bool negative = sci.front() == '-';
  if (negative) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = 0;
  std::string_view exp_text = std::string_view(sci).substr(e + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  std::string out;
  if (exponent >= -5 + 1 && exponent < 16) {
    if (exponent >= 0) {
      std::string whole = digits.substr(0, std::min<size_t>(digits.size(), exponent + 1));
      while (static_cast<int>(whole.size()) < exponent + 1) whole += '0';
      std::string frac =
          digits.size() > static_cast<size_t>(exponent + 1) ? digits.substr(exponent + 1) : "0";
      out = whole + "." + frac;
    } else {
      out = "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+',
                  exponent < 0 ? -exponent : exponent);
    out += exp_buf;
  }
  return negative ? "-" + out : out;
}

std::optional<double> AssessmentAggregateValue(const bj::value& value) {
  if (value.is_bool()) return value.get_bool() ? 1.0 : 0.0;
  if (value.is_number()) {
    double d = value.is_double()  ? value.get_double()
               : value.is_int64() ? static_cast<double>(value.get_int64())
                                  : static_cast<double>(value.get_uint64());
    if (std::isfinite(d)) return d;
    return std::nullopt;
  }
  if (value.is_string()) {
    std::string s(value.get_string());
    size_t b = s.find_first_not_of(" \t\r\n\f\v");
    size_t e = s.find_last_not_of(" \t\r\n\f\v");
    s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (s == "yes") return 1.0;
    if (s == "no") return 0.0;
  }
  return std::nullopt;
}

std::string AssessmentValueText(const bj::value& value) {
  std::string out;
  AppendPythonJson(value, out, 0);
  return out;
}

StatusOr<std::vector<MetricDataPoint>> ComputeAssessmentMetrics(
    const TraceMetricsQuery& query, const std::vector<metadata::TraceInfo>& traces) {
  std::vector<TraceMetricsFilter> filters;
  for (const std::string& text : query.filters) {
    ASSIGN_OR_RETURN(TraceMetricsFilter f, ParseTraceMetricsFilter(text));
    filters.push_back(std::move(f));
  }
  int64_t interval = query.time_interval_seconds.value_or(0);
  bool counting = query.metric_name == kAssessmentCount;
  std::map<std::pair<int64_t, std::vector<std::string>>, Group> groups;
  for (const metadata::TraceInfo& trace : traces) {
    if (query.start_time_ms && trace.request_time_ms < *query.start_time_ms) continue;
    if (query.end_time_ms && trace.request_time_ms > *query.end_time_ms) continue;
    for (const metadata::Assessment& a : trace.assessments) {
      if (!a.valid) continue;
      bool keep = true;
      for (const TraceMetricsFilter& f : filters) {
        ASSIGN_OR_RETURN(bool match, Matches(trace, a, f));
        keep = keep && match;
      }
      if (!keep) continue;
      boost::system::error_code ec;
      bj::value value = bj::parse(a.value_json, ec);
      if (ec) value = nullptr;
      double number = 0;
      if (!counting) {
        std::optional<double> aggregate = AssessmentAggregateValue(value);
        if (!aggregate) continue;
        number = *aggregate;
      }
      std::vector<std::string> dims;
      for (const std::string& dim : query.dimensions) {
        dims.push_back(dim == kAssessmentValue ? AssessmentValueText(value) : a.name);
      }
      int64_t bucket = interval != 0 ? BucketStart(trace.request_time_ms, interval) : 0;
      groups[{bucket, std::move(dims)}].numbers.push_back(number);
    }
  }
  bool grouped = interval != 0 || !query.dimensions.empty();
  if (!grouped && groups.empty()) groups[{0, {}}];

  std::vector<MetricDataPoint> points;
  int64_t rows = 0;
  for (auto& [key, group] : groups) {
    if (query.max_results >= 0 && rows >= query.max_results) break;
    ++rows;
    MetricDataPoint point;
    point.metric_name = query.metric_name;
    if (interval != 0) {
      point.dimensions.emplace_back(kTimeBucket, PythonIsoFormatUtc(key.first * 1000));
    }
    for (size_t i = 0; i < query.dimensions.size(); ++i) {
      auto existing = std::find_if(point.dimensions.begin(), point.dimensions.end(),
                                   [&](const auto& d) { return d.first == query.dimensions[i]; });
      if (existing == point.dimensions.end()) {
        point.dimensions.emplace_back(query.dimensions[i], key.second[i]);
      }
    }
    std::vector<double>& numbers = group.numbers;
    std::sort(numbers.begin(), numbers.end());
    for (const MetricAggregation& agg : query.aggregations) {
      std::optional<double> v;
      if (agg.type == A::kCount) {
        v = static_cast<double>(numbers.size());
      } else if (!numbers.empty()) {
        double sum = 0;
        for (double n : numbers) sum += n;
        switch (agg.type) {
          case A::kSum:
            v = sum;
            break;
          case A::kAvg:
            v = sum / static_cast<double>(numbers.size());
            break;
          case A::kMin:
            v = numbers.front();
            break;
          case A::kMax:
            v = numbers.back();
            break;
          case A::kPercentile:
            v = Percentile(numbers, agg.percentile_value.value_or(0));
            break;
          case A::kCount:
            break;
        }
      }
      std::string label = AggregationLabel(agg);
      auto existing = std::find_if(point.values.begin(), point.values.end(),
                                   [&](const auto& p) { return p.first == label; });
      if (v && existing == point.values.end()) point.values.emplace_back(std::move(label), *v);
    }
    if (!point.values.empty()) points.push_back(std::move(point));
  }
  return points;
}

}  // namespace cairn::tracking
