#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::inference {

// Appends JSON text to a caller-owned string without building a DOM: the caller reserves `out`
// once and the writer only appends (std::to_chars for numbers). Commas and separators are placed
// automatically; the caller nests Begin/End correctly (at most 256 levels) and writes a Key
// before each object member. Not thread-safe; one writer per output string.
class JsonWriter {
 public:
  enum class Style {
    // {"a":1,"b":[1.5,"é"]}: no spaces, non-ASCII written as UTF-8.
    kCompact,
    // What Python's json.dumps writes with its defaults (MLflow's scoring server):
    // {"a": 1, "b": [1.5, "\u00e9"]}: ", " and ": " separators, ensure_ascii escapes.
    kPython,
  };

  explicit JsonWriter(std::string& out, Style style = Style::kCompact) : out_(out), style_(style) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(std::string_view key);

  // Writes `s` as a JSON string; bytes that are not well-formed UTF-8 become U+FFFD.
  void String(std::string_view s);
  void Int(int64_t v);
  void Uint(uint64_t v);
  // The shortest text that reads back as the same double, spelled as Python's repr() spells it
  // ("1.0", "0.1", "1e-05", "1e+16"); NaN and infinities as Python's json writes them ("NaN",
  // "Infinity", "-Infinity"), which strict JSON parsers reject.
  void Double(double v);
  // The same for the shortest text that reads back as the same float ("0.1", not
  // "0.10000000149011612").
  void Float(float v);
  void Bool(bool v);
  void Null();
  // Appends `json`, already-encoded JSON (e.g. a client's `parameters` object), as one value.
  void RawValue(std::string_view json);

 private:
  void BeforeValue();

  std::string& out_;
  Style style_;
  // Bit i: the container at depth i already holds an element (the next one needs a comma).
  std::bitset<256> has_element_;
  int depth_ = 0;
  bool after_key_ = false;
};

// Appends the number as JsonWriter::Double / Float write it.
void AppendDouble(double v, std::string& out);
void AppendFloat(float v, std::string& out);

// Widens IEEE half and bfloat16 bit patterns.
float HalfToFloat(uint16_t bits);
float Bfloat16ToFloat(uint16_t bits);

}  // namespace cairn::inference
