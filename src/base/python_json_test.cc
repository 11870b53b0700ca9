// Expectations written by CPython 3.11: repr(float) and json.dumps(...).

#include "base/python_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cairn::json {
namespace {

TEST(PythonJsonTest, FloatReprIsPythons) {
  EXPECT_EQ(PythonFloatRepr(1), "1.0");
  EXPECT_EQ(PythonFloatRepr(0.1), "0.1");
  EXPECT_EQ(PythonFloatRepr(-2.5), "-2.5");
  EXPECT_EQ(PythonFloatRepr(0), "0.0");
  EXPECT_EQ(PythonFloatRepr(-0.0), "-0.0");
  EXPECT_EQ(PythonFloatRepr(1e15), "1000000000000000.0");
  EXPECT_EQ(PythonFloatRepr(1e16), "1e+16");
  EXPECT_EQ(PythonFloatRepr(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(PythonFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(PythonFloatRepr(0.00001), "1e-05");
  EXPECT_EQ(PythonFloatRepr(1.5e-7), "1.5e-07");
  EXPECT_EQ(PythonFloatRepr(1e300), "1e+300");
  EXPECT_EQ(PythonFloatRepr(5e-324), "5e-324");
  EXPECT_EQ(PythonFloatRepr(std::nan("")), "nan");
  EXPECT_EQ(PythonFloatRepr(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(PythonJsonTest, DumpsIsPythons) {
  boost::json::value v = boost::json::array{
      boost::json::object{{"name", "m"}, {"version", 1}},
      boost::json::object{{"name", "caf\xc3\xa9 \"q\"\n\x01\x7f\xf0\x9f\x98\x80"}, {"v", 2.0}}};
  // json.dumps([{"name": "m", "version": 1}, {"name": "caf\u00e9 \"q\"\n\x01\x7f\U0001F600",
  //             "v": 2.0}])
  EXPECT_EQ(
      PythonJsonDumps(v),
      R"([{"name": "m", "version": 1}, {"name": "caf\u00e9 \"q\"\n\u0001\u007f\ud83d\ude00", )"
      R"("v": 2.0}])");
  EXPECT_EQ(PythonJsonDumps(boost::json::array{}), "[]");
  EXPECT_EQ(PythonJsonDumps(boost::json::object{}), "{}");
  // json.dumps(float("nan")), json.dumps([float("inf"), None, True])
  EXPECT_EQ(PythonJsonDumps(std::nan("")), "NaN");
  EXPECT_EQ(
      PythonJsonDumps(boost::json::array{std::numeric_limits<double>::infinity(), nullptr, true}),
      "[Infinity, null, true]");
}

TEST(PythonJsonTest, SortKeysAndIntegersAsFloats) {
  boost::json::value v = boost::json::object{
      {"b", 1}, {"a", boost::json::object{{"d", 2}, {"c", 3}}}, {"\xc3\xa9", 0}};
  // json.dumps({"b": 1, "a": {"d": 2, "c": 3}, "é": 0}, sort_keys=True)
  EXPECT_EQ(PythonJsonDumps(v, {.sort_keys = true}),
            R"({"a": {"c": 3, "d": 2}, "b": 1, "\u00e9": 0})");
  EXPECT_EQ(PythonJsonDumps(v), R"({"b": 1, "a": {"d": 2, "c": 3}, "\u00e9": 0})");
  EXPECT_EQ(PythonJsonDumps(boost::json::array{1, -3, 2.5}, {.integers_as_floats = true}),
            "[1.0, -3.0, 2.5]");
}

}  // namespace
}  // namespace cairn::json
