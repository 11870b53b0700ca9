#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "runtime/mlmodel.h"
#include "runtime/model_runtime.h"

// Request and response bodies of MLflow's scoring protocol (`POST /invocations` of
// `mlflow models serve`). Pure functions: no I/O, thread-safe (one reusable simdjson parser per
// thread).
namespace cairn::inference {

// Parses an /invocations body into a PredictRequest.
//
// `content_type` is the Content-Type header: `application/json` or `text/csv`, optionally with
// `; charset=utf-8` (any other charset or parameter, parquet, or another type is Unimplemented,
// which the caller answers with 415 as MLflow does).
//
// JSON bodies hold exactly one of `dataframe_split` ({columns?, data, index?}),
// `dataframe_records` ([{col: v}, ...]), `instances` or `inputs`, plus optional `params` (an
// object, kept as JSON text in `params_json`); other keys are ignored as MLflow ignores them.
// CSV bodies are a header row of column names and one row per record (RFC 4180 quoting).
//
// Tables (dataframe_*, CSV, instances/inputs given as records, and dicts or row lists when the
// signature is column-based) become a columnar request: one 1-D tensor per column, all with the
// row count. With a column-based `signature`: columns come in signature order, columns the
// signature does not name are dropped (as MLflow does), a missing required column is
// InvalidArgument "Model is missing inputs ['a', 'b']." and values are converted to the column
// type:
//   double/float  numbers, numeric strings ("1.5", "nan", "inf"), null -> NaN, bools -> 1/0;
//   long/integer  integers in range, integral doubles (2.0), integer strings;
//   boolean       true/false, 0/1, "true"/"false" in any case;
//   string        strings (CSV: the cell text); binary: base64 strings, decoded;
//   datetime      strings, kept as text; array/object/map columns: each cell's JSON text.
// Anything else (a string in a double column, 1.5 in a long column) is InvalidArgument naming
// the column and the row. Without a signature the type of each column is inferred: integers ->
// INT64, numbers with a fraction or a null -> FP64, booleans -> BOOL, strings -> BYTES; a column
// mixing these is InvalidArgument (pandas would make it an object column no runtime accepts).
//
// Other `instances`/`inputs` values become tensors: a list (nested to any depth up to 32, rows
// of equal length) is one tensor named after the single input of the tensor-based signature or
// of the model (the model must have one input, or declare none: then it is named "input"); a
// dict gives one tensor per key. The type comes from the tensor-based signature, else from the
// model's declared input, else is inferred as above; declared shapes are checked (rank and
// fixed dimensions), as are missing required and unknown input names.
//
// Errors: InvalidArgument (400) whose message names the column or input; Unimplemented for an
// unsupported content type.
StatusOr<runtime::PredictRequest> ParseMlflowInvocation(
    std::string_view body, std::string_view content_type,
    const std::optional<runtime::ModelSignature>& signature, const runtime::ModelInterface& model);

// Writes {"predictions": ...} into `out` (cleared first), byte for byte as MLflow's
// predictions_to_json writes the same values (Python json.dumps: ", " and ": " separators,
// non-ASCII as \uXXXX, NaN/Infinity literals, floats in Python's repr, FP32 widened to double
// first as numpy's tolist() does):
//   columnar response (a DataFrame)  -> records: [{"col": v, ...}, ...]
//   one non-columnar output          -> its values nested by its shape (a scalar for shape [])
//   several outputs                  -> {"name": nested values, ...}
//   no outputs                       -> null
// BYTES elements are written as strings (bytes that are not UTF-8 become U+FFFD).
void WriteMlflowPredictions(const runtime::PredictResponse& response, std::string& out);

}  // namespace cairn::inference
