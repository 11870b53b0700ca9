#include "api/inference/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "base/utf8.h"

namespace cairn::inference {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendUnicodeEscape(uint32_t unit, std::string& out) {
  char buf[6] = {'\\',
                 'u',
                 kHex[(unit >> 12) & 0xF],
                 kHex[(unit >> 8) & 0xF],
                 kHex[(unit >> 4) & 0xF],
                 kHex[unit & 0xF]};
  out.append(buf, 6);
}

uint32_t DecodeUtf8(std::string_view s, size_t i, size_t len) {
  const auto b = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k]));
  };
  switch (len) {
    case 2:
      return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3:
      return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default:
      return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

// True for the bytes the fast path cannot copy as they are.
inline bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c >= 0x7F; }

void AppendEscaped(std::string_view s, bool ensure_ascii, std::string& out) {
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;
    while (run < s.size() && !NeedsEscape(static_cast<unsigned char>(s[run]))) ++run;
    out.append(s.data() + i, run - i);
    i = run;
    if (i >= s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
          break;
        case 0x7F:
          if (ensure_ascii) {
            AppendUnicodeEscape(c, out);
          } else {
            out.push_back(static_cast<char>(c));
          }
          break;
        default:
          AppendUnicodeEscape(c, out);
      }
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      if (ensure_ascii) {
        AppendUnicodeEscape(0xFFFD, out);
      } else {
        out.append("\xEF\xBF\xBD");
      }
      ++i;
      continue;
    }
    if (!ensure_ascii) {
      out.append(s.data() + i, len);
    } else {
      uint32_t cp = DecodeUtf8(s, i, len);
      if (cp >= 0x10000) {
        cp -= 0x10000;
        AppendUnicodeEscape(0xD800 + (cp >> 10), out);
        AppendUnicodeEscape(0xDC00 + (cp & 0x3FF), out);
      } else {
        AppendUnicodeEscape(cp, out);
      }
    }
    i += len;
  }
  out.push_back('"');
}

// Re-spells to_chars' shortest scientific form ("d.ddde±x") as Python's repr does: positional
// for exponents -5 < e < 16 with at least one fractional digit, otherwise d.ddde±XX.
void AppendPythonRepr(const char* sci, size_t sci_len, std::string& out) {
  std::string_view text(sci, sci_len);
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  const size_t e_pos = text.find('e');
  std::string_view mantissa = text.substr(0, e_pos);
  int exponent = 0;
  const char* exponent_text = text.data() + e_pos + 1;
  if (*exponent_text == '+') ++exponent_text;  // from_chars takes no '+'
  std::from_chars(exponent_text, text.data() + text.size(), exponent);
  // Digits without the point.
  char digits[32];
  size_t n = 0;
  for (char c : mantissa) {
    if (c != '.') digits[n++] = c;
  }
  if (negative) out.push_back('-');
  if (exponent >= -5 + 1 && exponent < 16) {
    if (exponent < 0) {
      out.append("0.");
      out.append(static_cast<size_t>(-exponent - 1), '0');
      out.append(digits, n);
    } else {
      const size_t int_digits = static_cast<size_t>(exponent) + 1;
      if (n <= int_digits) {
        out.append(digits, n);
        out.append(int_digits - n, '0');
        out.append(".0");
      } else {
        out.append(digits, int_digits);
        out.push_back('.');
        out.append(digits + int_digits, n - int_digits);
      }
    }
    return;
  }
  out.push_back(digits[0]);
  if (n > 1) {
    out.push_back('.');
    out.append(digits + 1, n - 1);
  }
  out.push_back('e');
  out.push_back(exponent < 0 ? '-' : '+');
  const int magnitude = exponent < 0 ? -exponent : exponent;
  if (magnitude < 10) out.push_back('0');
  char buf[8];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), magnitude);
  out.append(buf, end);
}

template <typename T>
void AppendFloating(T v, std::string& out) {
  if (std::isnan(v)) {
    out.append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out.append(v < 0 ? "-Infinity" : "Infinity");
    return;
  }
  if (v == 0) {
    out.append(std::signbit(v) ? "-0.0" : "0.0");
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  AppendPythonRepr(buf, static_cast<size_t>(end - buf), out);
}

}  // namespace

void AppendDouble(double v, std::string& out) { AppendFloating(v, out); }
void AppendFloat(float v, std::string& out) { AppendFloating(v, out); }

float HalfToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1F;
  uint32_t mantissa = bits & 0x3FF;
  uint32_t out = 0;
  if (exponent == 0) {
    if (mantissa == 0) {
      out = sign;
    } else {
      // Subnormal: renormalise.
      int e = -1;
      do {
        ++e;
        mantissa <<= 1;
      } while ((mantissa & 0x400) == 0);
      out = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mantissa & 0x3FF) << 13);
    }
  } else if (exponent == 0x1F) {
    out = sign | 0x7F800000 | (mantissa << 13);
  } else {
    out = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &out, sizeof(f));
  return f;
}

float Bfloat16ToFloat(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, sizeof(f));
  return f;
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ > 0) {
    if (has_element_[depth_]) {
      if (style_ == Style::kPython) {
        out_.append(", ");
      } else {
        out_.push_back(',');
      }
    }
    has_element_[depth_] = true;
  }
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  ++depth_;
  has_element_[depth_] = false;
}

void JsonWriter::EndObject() {
  --depth_;
  out_.push_back('}');
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  ++depth_;
  has_element_[depth_] = false;
}

void JsonWriter::EndArray() {
  --depth_;
  out_.push_back(']');
}

void JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendEscaped(key, style_ == Style::kPython, out_);
  if (style_ == Style::kPython) {
    out_.append(": ");
  } else {
    out_.push_back(':');
  }
  after_key_ = true;
}

void JsonWriter::String(std::string_view s) {
  BeforeValue();
  AppendEscaped(s, style_ == Style::kPython, out_);
}

void JsonWriter::Int(int64_t v) {
  BeforeValue();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out_.append(buf, end);
}

void JsonWriter::Uint(uint64_t v) {
  BeforeValue();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out_.append(buf, end);
}

void JsonWriter::Double(double v) {
  BeforeValue();
  AppendDouble(v, out_);
}

void JsonWriter::Float(float v) {
  BeforeValue();
  AppendFloat(v, out_);
}

void JsonWriter::Bool(bool v) {
  BeforeValue();
  out_.append(v ? "true" : "false");
}

void JsonWriter::Null() {
  BeforeValue();
  out_.append("null");
}

void JsonWriter::RawValue(std::string_view json) {
  BeforeValue();
  out_.append(json);
}

}  // namespace cairn::inference
