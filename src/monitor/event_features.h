#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/mlmodel.h"
#include "runtime/model_runtime.h"
#include "stream/prediction_event.h"

namespace cairn::monitor {

// What the monitor needs to read a deployment's logged requests: the model's declared inputs
// and outputs and its MLflow signature (column names and types).
struct ModelSchema {
  runtime::ModelInterface interface;
  std::optional<runtime::ModelSignature> signature;
};

// One value of a feature in one row.
struct Cell {
  enum class Type : uint8_t { kMissing, kNumber, kString };
  Type type = Type::kMissing;
  double number = 0;
  std::string text;
};

// The rows of one logged prediction, column by column, and what the model answered per row.
struct EventRows {
  size_t rows = 0;
  std::vector<std::string> names;          // feature names
  std::vector<std::vector<Cell>> columns;  // parallel to names, each `rows` long
  // Per row: the predicted value as a cell (a class label or a number), and the score of the
  // positive class when the model answered class probabilities for two classes.
  std::vector<Cell> predictions;
  std::vector<std::optional<double>> scores;
};

// Reads the request's feature rows and the answer's predictions from a logged event, with the
// same parsers the prediction routes use (so what was served is what is measured). Features of
// a table are named by column; a 2-D tensor input X of k columns gives features X[0] .. X[k-1];
// a 1-D tensor gives X. INVALID_ARGUMENT when the inputs cannot be read (truncated or binary
// bodies are not logged in full). Missing or unreadable outputs leave `predictions` empty.
StatusOr<EventRows> ExtractRows(const stream::PredictionEvent& event, const ModelSchema& schema);

// The JSON text of a prediction or label cell, and the normalised key labels and predictions
// are compared by: integral numbers without a fraction ("1" for 1.0), other numbers in shortest
// form, strings as they are, booleans as "true"/"false".
std::string CellKey(const Cell& cell);
// A JSON scalar as a cell: numbers, strings, booleans as "true"/"false"; anything else (null,
// arrays, objects) is kMissing.
Cell CellFromJson(const boost::json::value& v);
// Parses a label's JSON text (a number, string or boolean) into a cell; kMissing for null or
// anything else.
Cell ParseLabel(std::string_view json);

}  // namespace cairn::monitor
