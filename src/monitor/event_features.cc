#include "monitor/event_features.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "api/inference/json_writer.h"
#include "api/inference/mlflow_codec.h"
#include "api/inference/v2_codec.h"

namespace cairn::monitor {
namespace {

namespace bj = boost::json;
using runtime::DataType;
using runtime::Tensor;

Cell NumberCell(double v) {
  Cell c;
  if (std::isnan(v)) return c;
  c.type = Cell::Type::kNumber;
  c.number = v;
  return c;
}

Cell StringCell(std::string s) {
  Cell c;
  c.type = Cell::Type::kString;
  c.text = std::move(s);
  return c;
}

// Element `i` of a tensor as a cell.
Cell TensorCell(const Tensor& t, size_t i) {
  switch (t.type) {
    case DataType::kBool:
      return NumberCell(t.As<uint8_t>()[i] != 0 ? 1 : 0);
    case DataType::kUint8:
      return NumberCell(t.As<uint8_t>()[i]);
    case DataType::kUint16:
      return NumberCell(t.As<uint16_t>()[i]);
    case DataType::kUint32:
      return NumberCell(t.As<uint32_t>()[i]);
    case DataType::kUint64:
      return NumberCell(static_cast<double>(t.As<uint64_t>()[i]));
    case DataType::kInt8:
      return NumberCell(t.As<int8_t>()[i]);
    case DataType::kInt16:
      return NumberCell(t.As<int16_t>()[i]);
    case DataType::kInt32:
      return NumberCell(t.As<int32_t>()[i]);
    case DataType::kInt64:
      return NumberCell(static_cast<double>(t.As<int64_t>()[i]));
    case DataType::kFp32:
      return NumberCell(t.As<float>()[i]);
    case DataType::kFp64:
      return NumberCell(t.As<double>()[i]);
    case DataType::kBytes:
      return i < t.strings.size() ? StringCell(t.strings[i]) : Cell{};
    case DataType::kFp16:
    case DataType::kBf16:
      return Cell{};
  }
  return Cell{};
}

Status AddTensorColumns(const Tensor& t, EventRows& rows) {
  const int64_t count = t.ElementCount();
  if (count < 0) return InvalidArgument("tensor '" + t.name + "' has a negative dimension");
  size_t n = 0;
  size_t k = 1;
  if (t.shape.empty()) {
    n = 1;
  } else {
    n = static_cast<size_t>(t.shape[0]);
    k = n == 0 ? 0 : static_cast<size_t>(count) / n;
  }
  if (rows.names.empty()) {
    rows.rows = n;
  } else if (rows.rows != n) {
    return InvalidArgument("inputs disagree on the number of rows");
  }
  const bool one_column = t.shape.size() <= 1 || k == 1;
  for (size_t j = 0; j < k; ++j) {
    rows.names.push_back(one_column ? t.name : t.name + "[" + std::to_string(j) + "]");
    std::vector<Cell>& column = rows.columns.emplace_back();
    column.reserve(n);
    for (size_t r = 0; r < n; ++r) column.push_back(TensorCell(t, r * k + j));
  }
  return Status::Ok();
}

}  // namespace

Cell CellFromJson(const bj::value& v) {
  if (v.is_double()) return NumberCell(v.get_double());
  if (v.is_int64()) return NumberCell(static_cast<double>(v.get_int64()));
  if (v.is_uint64()) return NumberCell(static_cast<double>(v.get_uint64()));
  if (v.is_bool()) return StringCell(v.get_bool() ? "true" : "false");
  if (v.is_string()) return StringCell(std::string(v.get_string()));
  return Cell{};
}

namespace {

// One output's values, flattened row-major, with its row count and row width.
struct OutputValues {
  std::string name;
  std::vector<Cell> cells;
  size_t rows = 0;
  size_t width = 1;
};

void Flatten(const bj::value& v, std::vector<Cell>& out) {
  if (v.is_array()) {
    for (const bj::value& e : v.get_array()) Flatten(e, out);
  } else {
    out.push_back(CellFromJson(v));
  }
}

OutputValues FromNested(std::string name, const bj::value& v) {
  OutputValues out;
  out.name = std::move(name);
  if (!v.is_array()) {
    out.rows = 1;
    out.cells.push_back(CellFromJson(v));
    return out;
  }
  const bj::array& rows = v.get_array();
  out.rows = rows.size();
  if (!rows.empty() && rows[0].is_array()) out.width = rows[0].get_array().size();
  Flatten(v, out.cells);
  if (out.cells.size() != out.rows * out.width) out.width = 0;  // ragged: unusable
  return out;
}

std::vector<OutputValues> ParseOutputs(std::string_view protocol, std::string_view json) {
  std::vector<OutputValues> outputs;
  bj::error_code ec;
  bj::value root = bj::parse(json, ec);
  if (ec || !root.is_object()) return outputs;
  const bj::object& obj = root.get_object();
  if (protocol == "v2") {
    const bj::value* list = obj.if_contains("outputs");
    if (list == nullptr || !list->is_array()) return outputs;
    for (const bj::value& o : list->get_array()) {
      if (!o.is_object()) continue;
      const bj::value* name = o.get_object().if_contains("name");
      const bj::value* shape = o.get_object().if_contains("shape");
      const bj::value* data = o.get_object().if_contains("data");
      if (name == nullptr || !name->is_string() || data == nullptr) continue;
      OutputValues values;
      values.name = std::string(name->get_string());
      Flatten(*data, values.cells);
      if (shape != nullptr && shape->is_array() && !shape->get_array().empty() &&
          shape->get_array()[0].is_int64()) {
        const int64_t n = shape->get_array()[0].get_int64();
        values.rows = n > 0 ? static_cast<size_t>(n) : 0;
        values.width = values.rows == 0 ? 0 : values.cells.size() / values.rows;
      } else {
        values.rows = values.cells.size();
      }
      outputs.push_back(std::move(values));
    }
    return outputs;
  }
  const bj::value* predictions = obj.if_contains("predictions");
  if (predictions == nullptr) return outputs;
  if (predictions->is_object()) {
    for (const auto& [key, value] : predictions->get_object()) {
      outputs.push_back(FromNested(std::string(key), value));
    }
    return outputs;
  }
  if (predictions->is_array() && !predictions->get_array().empty() &&
      predictions->get_array()[0].is_object()) {
    // Records of a DataFrame: one output per column.
    const bj::array& records = predictions->get_array();
    for (const auto& [key, unused] : records[0].get_object()) {
      OutputValues values;
      values.name = std::string(key);
      values.rows = records.size();
      for (const bj::value& record : records) {
        const bj::value* cell = record.is_object() ? record.get_object().if_contains(key) : nullptr;
        values.cells.push_back(cell == nullptr ? Cell{} : CellFromJson(*cell));
      }
      outputs.push_back(std::move(values));
    }
    return outputs;
  }
  outputs.push_back(FromNested("predictions", *predictions));
  return outputs;
}

bool IsLabelName(std::string_view name) {
  return name == "label" || name == "output_label" || name == "predictions" ||
         name == "prediction" || name == "predicted_label" || name == "variable";
}

void FillPredictions(std::vector<OutputValues> outputs, EventRows& rows) {
  const OutputValues* label = nullptr;
  const OutputValues* probabilities = nullptr;
  for (const OutputValues& o : outputs) {
    if (o.rows != rows.rows || o.width == 0) continue;
    if (o.width == 1) {
      if (label == nullptr || (IsLabelName(o.name) && !IsLabelName(label->name))) label = &o;
      continue;
    }
    if (o.width >= 2 && probabilities == nullptr) probabilities = &o;
  }
  if (label == nullptr && probabilities == nullptr) return;
  rows.predictions.resize(rows.rows);
  rows.scores.assign(rows.rows, std::nullopt);
  for (size_t r = 0; r < rows.rows; ++r) {
    if (probabilities != nullptr) {
      const size_t w = probabilities->width;
      size_t best = 0;
      for (size_t j = 1; j < w; ++j) {
        const Cell& c = probabilities->cells[r * w + j];
        if (c.type == Cell::Type::kNumber && c.number > probabilities->cells[r * w + best].number) {
          best = j;
        }
      }
      if (w == 2 && probabilities->cells[r * w + 1].type == Cell::Type::kNumber) {
        rows.scores[r] = probabilities->cells[r * w + 1].number;
      }
      if (label == nullptr) rows.predictions[r] = NumberCell(static_cast<double>(best));
    }
    if (label != nullptr) rows.predictions[r] = label->cells[r];
  }
}

}  // namespace

StatusOr<EventRows> ExtractRows(const stream::PredictionEvent& event, const ModelSchema& schema) {
  if (event.inputs_json.empty()) return InvalidArgument("the event has no inputs");
  runtime::PredictRequest request;
  if (event.protocol == "v2") {
    ASSIGN_OR_RETURN(
        inference::V2Request parsed,
        inference::ParseV2InferRequest(event.inputs_json, std::nullopt, schema.interface));
    request = std::move(parsed.predict);
  } else {
    std::string_view body = event.inputs_json;
    std::string csv;
    std::string_view content_type = "application/json";
    if (!body.empty() && body.front() == '"') {
      // A CSV body, logged as a JSON string.
      bj::error_code ec;
      bj::value text = bj::parse(body, ec);
      if (ec || !text.is_string()) return InvalidArgument("unreadable logged body");
      csv = std::string(text.get_string());
      body = csv;
      content_type = "text/csv";
    }
    ASSIGN_OR_RETURN(request, inference::ParseMlflowInvocation(body, content_type, schema.signature,
                                                               schema.interface));
  }
  EventRows rows;
  for (const Tensor& t : request.inputs) RETURN_IF_ERROR(AddTensorColumns(t, rows));
  if (!event.outputs_json.empty()) {
    FillPredictions(ParseOutputs(event.protocol, event.outputs_json), rows);
  }
  return rows;
}

std::string CellKey(const Cell& cell) {
  switch (cell.type) {
    case Cell::Type::kMissing:
      return "";
    case Cell::Type::kString:
      return cell.text;
    case Cell::Type::kNumber: {
      const double v = cell.number;
      if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) {
        return std::to_string(static_cast<int64_t>(v));
      }
      std::string out;
      inference::AppendDouble(v, out);
      return out;
    }
  }
  return "";
}

Cell ParseLabel(std::string_view json) {
  bj::error_code ec;
  bj::value v = bj::parse(json, ec);
  if (ec) return Cell{};
  return CellFromJson(v);
}

}  // namespace cairn::monitor
