#include "base/python_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

namespace cairn::json {
namespace {

// Strings as json.dumps(ensure_ascii=True) writes them. A byte that is not part of valid UTF-8
// is escaped as the code point of its value (Python would have refused such a string).
void AppendPythonString(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0x80) {
      if ((c & 0xE0) == 0xC0) {
        len = 2, cp = c & 0x1F;
      } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F;
      } else if ((c & 0xF8) == 0xF0) {
        len = 4, cp = c & 0x07;
      }
      if (len == 1 || i + len > s.size()) {
        len = 1;
      } else {
        for (size_t k = 1; k < len; ++k) {
          cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        }
      }
    }
    i += len;
    switch (cp) {
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
    char buf[16];
    if (cp >= 0x20 && cp < 0x7F) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x10000) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      out += buf;
    } else {
      uint32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      out += buf;
    }
  }
  out.push_back('"');
}

void AppendFloat(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "NaN";
  } else if (std::isinf(d)) {
    out += d > 0 ? "Infinity" : "-Infinity";
  } else {
    out += PythonFloatRepr(d);
  }
}

void Append(std::string& out, const boost::json::value& v, const PythonJsonOptions& options) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::int64:
      if (options.integers_as_floats) {
        AppendFloat(out, static_cast<double>(v.get_int64()));
      } else {
        out += std::to_string(v.get_int64());
      }
      return;
    case boost::json::kind::uint64:
      if (options.integers_as_floats) {
        AppendFloat(out, static_cast<double>(v.get_uint64()));
      } else {
        out += std::to_string(v.get_uint64());
      }
      return;
    case boost::json::kind::double_:
      AppendFloat(out, v.get_double());
      return;
    case boost::json::kind::string:
      AppendPythonString(out, v.get_string());
      return;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const boost::json::value& item : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        Append(out, item, options);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::object: {
      std::vector<const boost::json::key_value_pair*> members;
      for (const boost::json::key_value_pair& kv : v.get_object()) members.push_back(&kv);
      if (options.sort_keys) {
        // Byte order of UTF-8 is code point order, which is how Python sorts str keys.
        std::stable_sort(members.begin(), members.end(),
                         [](const auto* a, const auto* b) { return a->key() < b->key(); });
      }
      out.push_back('{');
      bool first = true;
      for (const boost::json::key_value_pair* kv : members) {
        if (!first) out += ", ";
        first = false;
        AppendPythonString(out, kv->key());
        out += ": ";
        Append(out, kv->value(), options);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string PythonFloatRepr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  // The shortest round-tripping digits, then laid out as repr() does: positional when the
  // decimal point falls within -4 < decpt <= 16, else scientific with a two-digit exponent.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view sci(buf, ec == std::errc() ? end : buf);  // [-]d[.ddd]e[+-]XX
  std::string out;
  if (!sci.empty() && sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  if (e == std::string_view::npos) return out + std::string(sci);
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  std::string_view exp_text = sci.substr(e + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  int exponent = 0;
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  int decpt = exponent + 1;
  if (decpt <= -4 || decpt > 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+',
                  exponent < 0 ? -exponent : exponent);
    out += exp_buf;
  } else if (decpt <= 0) {
    out += "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
  } else if (static_cast<size_t>(decpt) >= digits.size()) {
    out += digits + std::string(static_cast<size_t>(decpt) - digits.size(), '0') + ".0";
  } else {
    out += digits.substr(0, static_cast<size_t>(decpt)) + "." +
           digits.substr(static_cast<size_t>(decpt));
  }
  return out;
}

void AppendPythonJson(std::string& out, const boost::json::value& value,
                      const PythonJsonOptions& options) {
  Append(out, value, options);
}

std::string PythonJsonDumps(const boost::json::value& value, const PythonJsonOptions& options) {
  std::string out;
  Append(out, value, options);
  return out;
}

}  // namespace cairn::json
