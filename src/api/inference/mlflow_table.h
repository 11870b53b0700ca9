#pragma once

// Internal to cairn_inference_codec: the cells and columns of MLflow's tabular inputs, shared by
// the JSON and CSV readers.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/mlmodel.h"
#include "runtime/model_runtime.h"
#include "runtime/tensor.h"

namespace cairn::inference::internal {

// One input value as read from JSON or CSV, before conversion. `text` views the parser's or
// the body's storage and is only valid during the Append call.
struct Cell {
  enum class Kind { kNull, kBool, kInt, kUint, kDouble, kString, kCsvText, kRawJson };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string_view text;
};

// Collects the values of one column (or the flattened elements of one tensor) and converts them
// to `target`, or, without one, infers INT64 / FP64 / BOOL / BYTES from the values seen.
class ColumnBuilder {
 public:
  // `mlflow_type` is the signature's column type ("double", "binary", "array", ...), "" when
  // the target comes from elsewhere; it decides base64 decoding and raw-JSON columns.
  ColumnBuilder(std::string name, std::optional<runtime::DataType> target,
                std::string_view mlflow_type);

  const std::string& name() const { return name_; }
  int64_t size() const { return rows_; }
  // True when cells should be handed over as raw JSON text (array/object/map columns).
  bool wants_raw_json() const { return raw_json_; }

  // Errors name the column (or input) and the row (element index).
  Status Append(const Cell& cell);
  // Appends nulls up to `rows` (records missing a key).
  Status PadTo(int64_t rows);
  // The 1-D tensor of the values; the builder is left empty.
  StatusOr<runtime::Tensor> Finish();

 private:
  enum class Inferred { kNone, kInt, kDouble, kBool, kString };

  Status AppendTarget(const Cell& cell);
  Status AppendInferred(const Cell& cell);
  Status Error(const Cell& cell, std::string_view what) const;
  template <typename T>
  void Push(T v);

  std::string name_;
  std::optional<runtime::DataType> target_;
  bool base64_ = false;
  bool raw_json_ = false;
  int64_t rows_ = 0;
  runtime::Tensor tensor_;
  Inferred inferred_ = Inferred::kNone;
  bool saw_null_ = false;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
};

// The type pandas.read_csv would give a column of CSV cells: INT64 when every non-empty cell is
// an integer (FP64 if some are empty), FP64 when every non-empty cell is a number, BOOL for
// True/False spellings, otherwise BYTES.
runtime::DataType InferCsvType(const std::vector<std::string_view>& cells);

// A CSV body parsed into a header and columns of cells (RFC 4180: quoted fields, "" escapes,
// CRLF or LF). Cells view `body` or `storage` (unescaped quoted fields).
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string_view>> columns;
  std::deque<std::string> storage;  // stable addresses
};
Status ParseCsv(std::string_view body, CsvTable& out);

// ['a', 'b'], as Python prints a list of strings (for MLflow's error wording).
std::string PythonList(const std::vector<std::string>& names);

// The columns of a table being read, mapped to the column-based signature when there is one.
class Table {
 public:
  explicit Table(const std::optional<runtime::ModelSignature>& signature)
      : signature_(signature && !signature->tensor_based && !signature->inputs.empty() ? &*signature
                                                                                       : nullptr) {
    columns_.reserve(signature_ != nullptr ? signature_->inputs.size() : 16);
  }

  bool has_signature() const { return signature_ != nullptr; }
  size_t column_count() const { return columns_.size(); }

  // Adds a column; nullptr when the signature drops it (its cells are skipped).
  StatusOr<ColumnBuilder*> AddColumn(std::string name) {
    for (const auto& c : columns_) {
      if (c.name == name) return InvalidArgument("column " + name + " appears more than once");
    }
    Column column{.name = name};
    if (signature_ != nullptr) {
      for (size_t k = 0; k < signature_->inputs.size(); ++k) {
        if (signature_->inputs[k].name != name) continue;
        std::string_view mlflow_type = k < signature_->input_column_types.size()
                                           ? signature_->input_column_types[k]
                                           : std::string_view();
        column.builder = std::make_unique<ColumnBuilder>(std::move(name),
                                                         signature_->inputs[k].type, mlflow_type);
      }
    } else {
      column.builder = std::make_unique<ColumnBuilder>(std::move(name), std::nullopt, "");
    }
    ColumnBuilder* builder = column.builder.get();
    columns_.push_back(std::move(column));
    if (builder != nullptr) RETURN_IF_ERROR(builder->PadTo(rows_));
    return builder;
  }

  // Columns named "0", "1", ... (pandas' default labels) up to `n`.
  Status EnsureDefaultColumns(size_t n) {
    while (columns_.size() < n)
      RETURN_IF_ERROR(AddColumn(std::to_string(columns_.size())).status());
    return Status::Ok();
  }

  ColumnBuilder* builder(size_t k) { return columns_[k].builder.get(); }
  ColumnBuilder* Find(std::string_view name, size_t& index) {
    for (size_t k = 0; k < columns_.size(); ++k) {
      if (columns_[k].name == name) {
        index = k;
        return columns_[k].builder.get();
      }
    }
    index = columns_.size();
    return nullptr;
  }

  Status EndRow() {
    ++rows_;
    for (auto& c : columns_) {
      if (c.builder) RETURN_IF_ERROR(c.builder->PadTo(rows_));
    }
    return Status::Ok();
  }

  Status Finish(runtime::PredictRequest& out) {
    out.columnar = true;
    if (signature_ == nullptr) {
      for (auto& c : columns_) {
        ASSIGN_OR_RETURN(runtime::Tensor t, c.builder->Finish());
        out.inputs.push_back(std::move(t));
      }
      return Status::Ok();
    }
    std::vector<std::string> missing;
    for (const runtime::TensorSpec& spec : signature_->inputs) {
      size_t index = 0;
      ColumnBuilder* b = Find(spec.name, index);
      if (b == nullptr) {
        if (!spec.optional) missing.push_back(spec.name);
        continue;
      }
      ASSIGN_OR_RETURN(runtime::Tensor t, b->Finish());
      out.inputs.push_back(std::move(t));
    }
    if (!missing.empty()) {
      return InvalidArgument("Model is missing inputs " + PythonList(missing) + ".");
    }
    return Status::Ok();
  }

 private:
  struct Column {
    std::string name;
    std::unique_ptr<ColumnBuilder> builder;
  };
  const runtime::ModelSignature* signature_;
  std::vector<Column> columns_;
  int64_t rows_ = 0;
};

// A text/csv body as MLflow reads it (pandas.read_csv, with the signature's column types).
StatusOr<runtime::PredictRequest> ParseMlflowCsv(
    std::string_view body, const std::optional<runtime::ModelSignature>& signature);

std::string_view TrimSpaces(std::string_view s);
// ASCII case-insensitive equality.
bool LowerEquals(std::string_view a, std::string_view b);

}  // namespace cairn::inference::internal
