#pragma once

#include <boost/json/value.hpp>
#include <string>

// JSON text byte for byte as Python writes it, for the places where MLflow's server hashes,
// signs or shows Python's json.dumps output (webhook payloads, dataset digests, assessment
// values): ", " and ": " separators, non-ASCII and control characters as \uXXXX (surrogate pairs
// above U+FFFF), floats as repr() writes them, NaN and infinities as NaN / Infinity.
namespace cairn::json {

// Python's repr(float) of `v` ("1.0", "0.0001", "1e-05", "1e+16", "-0.0"); "nan", "inf",
// "-inf" for the non-finite values.
std::string PythonFloatRepr(double v);

struct PythonJsonOptions {
  bool sort_keys = false;  // json.dumps(sort_keys=True): object members by key
  // Integers written as floats ("3.0"): what Python writes for a number that went through a
  // protobuf double.
  bool integers_as_floats = false;
};

void AppendPythonJson(std::string& out, const boost::json::value& value,
                      const PythonJsonOptions& options = {});
std::string PythonJsonDumps(const boost::json::value& value, const PythonJsonOptions& options = {});

}  // namespace cairn::json
