#include "api/inference/mlflow_codec.h"

#include <memory>

#include "api/inference/json_input.h"
#include "api/inference/mlflow_table.h"

namespace cairn::inference {
namespace {

namespace od = simdjson::ondemand;
using internal::Cell;
using internal::ColumnBuilder;
using internal::Table;
using runtime::DataType;
using runtime::ModelSignature;
using runtime::PredictRequest;
using runtime::Tensor;
using runtime::TensorSpec;

constexpr size_t kMaxNesting = 32;
constexpr std::string_view kFormats =
    "{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";

// Reads one scalar (or, for raw-JSON columns, any value) into a cell.
Status ReadCell(od::value value, bool raw_json, Cell& cell, std::string_view where) {
  od::json_type type;
  if (auto error = value.type().get(type)) return internal::MalformedJson(error);
  cell = Cell{};
  switch (type) {
    case od::json_type::null:
      cell.kind = Cell::Kind::kNull;
      if (!value.is_null()) return internal::MalformedJson(simdjson::N_ATOM_ERROR);
      return Status::Ok();
    case od::json_type::boolean:
      cell.kind = Cell::Kind::kBool;
      if (auto error = value.get_bool().get(cell.b)) return internal::MalformedJson(error);
      return Status::Ok();
    case od::json_type::string:
      cell.kind = Cell::Kind::kString;
      if (auto error = value.get_string().get(cell.text)) return internal::MalformedJson(error);
      return Status::Ok();
    case od::json_type::number: {
      od::number_type kind;
      if (auto error = value.get_number_type().get(kind)) return internal::MalformedJson(error);
      if (kind == od::number_type::signed_integer) {
        cell.kind = Cell::Kind::kInt;
        if (value.get_int64().get(cell.i) == simdjson::SUCCESS) return Status::Ok();
      } else if (kind == od::number_type::unsigned_integer) {
        cell.kind = Cell::Kind::kUint;
        if (value.get_uint64().get(cell.u) == simdjson::SUCCESS) return Status::Ok();
      } else {
        cell.kind = Cell::Kind::kDouble;
        if (value.get_double().get(cell.d) == simdjson::SUCCESS) return Status::Ok();
      }
      return InvalidArgument(std::string(where) + ": number " + internal::Quote(value) +
                             " is out of range");
    }
    default:
      if (!raw_json) {
        return InvalidArgument(std::string(where) + ": expected a scalar value, got " +
                               (type == od::json_type::array ? "a list" : "an object"));
      }
      cell.kind = Cell::Kind::kRawJson;
      if (type == od::json_type::array) {
        od::array a;
        if (auto error = value.get_array().get(a)) return internal::MalformedJson(error);
        if (auto error = a.raw_json().get(cell.text)) return internal::MalformedJson(error);
      } else {
        od::object o;
        if (auto error = value.get_object().get(o)) return internal::MalformedJson(error);
        if (auto error = o.raw_json().get(cell.text)) return internal::MalformedJson(error);
      }
      return Status::Ok();
  }
}

Status AppendValue(ColumnBuilder* builder, od::value value, std::string_view where) {
  if (builder == nullptr) return Status::Ok();  // a column the signature drops
  Cell cell;
  RETURN_IF_ERROR(ReadCell(value, builder->wants_raw_json(), cell, where));
  return builder->Append(cell);
}

std::string RowWhere(std::string_view format, int64_t row) {
  return std::string(format) + " row " + std::to_string(row);
}

// A row given as a list: one value per column, in column order.
Status ReadListRow(od::array row, Table& table, bool columns_fixed, std::string_view format,
                   int64_t row_index) {
  size_t k = 0;
  for (auto element : row) {
    od::value value;
    if (auto error = element.get(value)) return internal::MalformedJson(error);
    if (k >= table.column_count()) {
      if (columns_fixed) {
        return InvalidArgument(RowWhere(format, row_index) + " has more values than the " +
                               std::to_string(table.column_count()) + " columns");
      }
      RETURN_IF_ERROR(table.EnsureDefaultColumns(k + 1));
    }
    RETURN_IF_ERROR(AppendValue(table.builder(k), value, format));
    ++k;
  }
  if (k != table.column_count()) {
    return InvalidArgument(RowWhere(format, row_index) + " has " + std::to_string(k) +
                           " values, expected " + std::to_string(table.column_count()) +
                           " (one per column)");
  }
  return table.EndRow();
}

Status ReadRecord(od::object record, Table& table, std::string_view format, int64_t row_index) {
  for (auto field : record) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return internal::MalformedJson(error);
    od::value value;
    if (auto error = field.value().get(value)) return internal::MalformedJson(error);
    size_t index = 0;
    ColumnBuilder* builder = table.Find(key, index);
    if (index == table.column_count()) {
      ASSIGN_OR_RETURN(builder, table.AddColumn(std::string(key)));
    }
    if (builder != nullptr && builder->size() > row_index) {
      return InvalidArgument(RowWhere(format, row_index) + " names column " + std::string(key) +
                             " twice");
    }
    RETURN_IF_ERROR(AppendValue(builder, value, format));
  }
  return table.EndRow();
}

// Rows of a table: each a list of values or a {column: value} record.
Status ReadRows(od::array rows, Table& table, bool columns_fixed, std::string_view format) {
  int64_t row_index = 0;
  for (auto element : rows) {
    od::value row;
    if (auto error = element.get(row)) return internal::MalformedJson(error);
    od::json_type type;
    if (auto error = row.type().get(type)) return internal::MalformedJson(error);
    if (type == od::json_type::object) {
      od::object record;
      if (auto error = row.get_object().get(record)) return internal::MalformedJson(error);
      RETURN_IF_ERROR(ReadRecord(record, table, format, row_index));
    } else if (type == od::json_type::array) {
      od::array list;
      if (auto error = row.get_array().get(list)) return internal::MalformedJson(error);
      RETURN_IF_ERROR(ReadListRow(list, table, columns_fixed, format, row_index));
    } else {
      // pandas reads a list of scalars as one column.
      if (table.column_count() == 0) RETURN_IF_ERROR(table.EnsureDefaultColumns(1));
      if (table.column_count() != 1) {
        return InvalidArgument(RowWhere(format, row_index) + " is a single value, expected " +
                               std::to_string(table.column_count()) + " (one per column)");
      }
      RETURN_IF_ERROR(AppendValue(table.builder(0), row, format));
      RETURN_IF_ERROR(table.EndRow());
    }
    ++row_index;
  }
  return Status::Ok();
}

Status ReadDataframeSplit(od::value value, Table& table, PredictRequest& out) {
  od::object split;
  if (value.get_object().get(split)) {
    return InvalidArgument("Invalid input. Dataframe split format must be a dictionary.");
  }
  bool has_columns = false;
  bool has_data = false;
  for (auto field : split) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return internal::MalformedJson(error);
    od::value member;
    if (auto error = field.value().get(member)) return internal::MalformedJson(error);
    if (key == "columns") {
      od::array columns;
      if (member.get_array().get(columns)) {
        return InvalidArgument("dataframe_split 'columns' must be a list");
      }
      for (auto column : columns) {
        od::value name;
        if (auto error = column.get(name)) return internal::MalformedJson(error);
        Cell cell;
        RETURN_IF_ERROR(ReadCell(name, false, cell, "dataframe_split columns"));
        std::string label =
            cell.kind == Cell::Kind::kString ? std::string(cell.text) : internal::Quote(name);
        RETURN_IF_ERROR(table.AddColumn(std::move(label)).status());
      }
      has_columns = true;
    } else if (key == "data") {
      has_data = true;
    } else if (key != "index") {
      return InvalidArgument(
          "Invalid input. Dataframe split format must have 'data' field and optionally "
          "'columns' and 'index' fields. Got unexpected field '" +
          std::string(key) + "'.");
    }
  }
  if (!has_data) {
    return InvalidArgument(
        "Invalid input. Dataframe split format must have 'data' field and optionally "
        "'columns' and 'index' fields.");
  }
  // `data` is read in a second pass, once the columns (which may follow it) are known.
  if (auto error = split.reset().error()) return internal::MalformedJson(error);
  od::value data;
  if (auto error = split.find_field("data").get(data)) return internal::MalformedJson(error);
  od::array rows;
  if (data.get_array().get(rows)) return InvalidArgument("dataframe_split 'data' must be a list");
  RETURN_IF_ERROR(ReadRows(rows, table, has_columns, "dataframe_split"));
  return table.Finish(out);
}

// Reads nested lists into one tensor: the shape comes from the nesting, rows must have equal
// lengths.
class NestedReader {
 public:
  explicit NestedReader(ColumnBuilder& builder) : builder_(builder) {}

  Status Read(od::value value, size_t depth) {
    od::json_type type;
    if (auto error = value.type().get(type)) return internal::MalformedJson(error);
    if (type == od::json_type::array) {
      if (depth >= kMaxNesting) {
        return InvalidArgument("input " + builder_.name() + " is nested deeper than " +
                               std::to_string(kMaxNesting) + " levels");
      }
      od::array array;
      if (auto error = value.get_array().get(array)) return internal::MalformedJson(error);
      return ReadArray(array, depth);
    }
    if (leaf_depth_ < 0) {
      if (shape_.size() != depth) return Mixed();
      leaf_depth_ = static_cast<int64_t>(depth);
    } else if (static_cast<int64_t>(depth) != leaf_depth_) {
      return Mixed();
    }
    return AppendValue(&builder_, value, "input " + builder_.name());
  }

  // An array already entered (On-Demand cannot enter it again from its value).
  Status ReadArray(od::array& array, size_t depth) {
    if (leaf_depth_ >= 0 && static_cast<int64_t>(depth) >= leaf_depth_) return Mixed();
    if (shape_.size() == depth) shape_.push_back(-1);
    int64_t count = 0;
    for (auto element : array) {
      od::value child;
      if (auto error = element.get(child)) return internal::MalformedJson(error);
      RETURN_IF_ERROR(Read(child, depth + 1));
      ++count;
    }
    if (shape_[depth] == -1) {
      shape_[depth] = count;
    } else if (shape_[depth] != count) {
      return Mixed();
    }
    return Status::Ok();
  }

  StatusOr<Tensor> Finish() {
    for (int64_t& dim : shape_) dim = dim < 0 ? 0 : dim;
    ASSIGN_OR_RETURN(Tensor t, builder_.Finish());
    t.shape = std::move(shape_);
    return t;
  }

 private:
  Status Mixed() {
    return InvalidArgument("input " + builder_.name() +
                           ": rows have different lengths (or mix lists and values); a tensor "
                           "needs a rectangular nested list");
  }

  ColumnBuilder& builder_;
  std::vector<int64_t> shape_;
  int64_t leaf_depth_ = -1;
};

const TensorSpec* FindSpec(const std::vector<TensorSpec>& specs, std::string_view name) {
  for (const TensorSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

// Reads a tensor from `value`, or from `array` when the caller has already entered it.
StatusOr<Tensor> ReadTensor(od::value value, std::string name, const TensorSpec* spec,
                            od::array* array = nullptr) {
  ColumnBuilder builder(std::move(name),
                        spec != nullptr ? std::optional<DataType>(spec->type) : std::nullopt, "");
  NestedReader reader(builder);
  if (array != nullptr) {
    RETURN_IF_ERROR(reader.ReadArray(*array, 0));
  } else {
    RETURN_IF_ERROR(reader.Read(value, 0));
  }
  ASSIGN_OR_RETURN(Tensor t, reader.Finish());
  if (spec != nullptr) {
    bool fits = t.shape.size() == spec->shape.size();
    for (size_t i = 0; fits && i < spec->shape.size(); ++i) {
      fits = spec->shape[i] < 0 || spec->shape[i] == t.shape[i];
    }
    if (!fits) {
      return InvalidArgument("input " + t.name + ": shape " + internal::ShapeText(t.shape) +
                             " does not match the model's " + internal::ShapeText(spec->shape));
    }
  }
  return t;
}

// Peeks at the first element of an array without consuming it.
StatusOr<od::json_type> FirstElementType(od::array& array, bool& empty) {
  empty = true;
  od::json_type type = od::json_type::null;
  for (auto element : array) {
    od::value first;
    if (auto error = element.get(first)) return internal::MalformedJson(error);
    if (auto error = first.type().get(type)) return internal::MalformedJson(error);
    empty = false;
    break;
  }
  if (auto error = array.reset().error()) return internal::MalformedJson(error);
  return type;
}

// `instances` / `inputs` with a column-based signature: a dict of columns.
Status ReadColumnDict(od::object dict, Table& table, PredictRequest& out) {
  int64_t rows = -1;
  for (auto field : dict) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return internal::MalformedJson(error);
    od::value value;
    if (auto error = field.value().get(value)) return internal::MalformedJson(error);
    ASSIGN_OR_RETURN(ColumnBuilder * builder, table.AddColumn(std::string(key)));
    od::json_type type;
    if (auto error = value.type().get(type)) return internal::MalformedJson(error);
    int64_t count = 0;
    if (type == od::json_type::array && (builder == nullptr || !builder->wants_raw_json())) {
      od::array values;
      if (auto error = value.get_array().get(values)) return internal::MalformedJson(error);
      for (auto element : values) {
        od::value v;
        if (auto error = element.get(v)) return internal::MalformedJson(error);
        RETURN_IF_ERROR(AppendValue(builder, v, "column " + std::string(key)));
        ++count;
      }
    } else {
      RETURN_IF_ERROR(AppendValue(builder, value, "column " + std::string(key)));
      count = 1;
    }
    if (builder == nullptr) continue;
    if (rows >= 0 && rows != count) {
      return InvalidArgument(
          "Invalid input. The length of values for each input/column name are not the same");
    }
    rows = count;
  }
  return table.Finish(out);
}

Status ReadTensorInput(od::value value, const std::optional<ModelSignature>& signature,
                       const runtime::ModelInterface& model, bool instances, PredictRequest& out) {
  const bool column_signature = signature && !signature->tensor_based && !signature->inputs.empty();
  const std::vector<TensorSpec>* specs = nullptr;
  if (signature && signature->tensor_based) {
    specs = &signature->inputs;
  } else if (!model.inputs.empty()) {
    specs = &model.inputs;
  }
  od::json_type type;
  if (auto error = value.type().get(type)) return internal::MalformedJson(error);
  if (type == od::json_type::object) {
    od::object dict;
    if (auto error = value.get_object().get(dict)) return internal::MalformedJson(error);
    if (column_signature) {
      Table table(signature);
      return ReadColumnDict(dict, table, out);
    }
    for (auto field : dict) {
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return internal::MalformedJson(error);
      od::value member;
      if (auto error = field.value().get(member)) return internal::MalformedJson(error);
      const TensorSpec* spec = specs != nullptr ? FindSpec(*specs, key) : nullptr;
      if (specs != nullptr && spec == nullptr) {
        return InvalidArgument("unknown input '" + std::string(key) + "'");
      }
      for (const Tensor& seen : out.inputs) {
        if (seen.name == key) return InvalidArgument("input '" + seen.name + "' given twice");
      }
      ASSIGN_OR_RETURN(Tensor t, ReadTensor(member, std::string(key), spec));
      if (instances && !out.inputs.empty() && !t.shape.empty() && !out.inputs[0].shape.empty() &&
          t.shape[0] != out.inputs[0].shape[0]) {
        return InvalidArgument(
            "Invalid input. The length of values for each input/column name are not the same");
      }
      out.inputs.push_back(std::move(t));
    }
    if (specs != nullptr) {
      std::vector<std::string> missing;
      for (const TensorSpec& spec : *specs) {
        if (spec.optional) continue;
        bool found = false;
        for (const Tensor& t : out.inputs) found = found || t.name == spec.name;
        if (!found) missing.push_back(spec.name);
      }
      if (!missing.empty()) {
        return InvalidArgument("Model is missing inputs " + internal::PythonList(missing) + ".");
      }
    }
    return Status::Ok();
  }
  od::array list;
  const bool is_list = type == od::json_type::array;
  if (is_list) {
    if (auto error = value.get_array().get(list)) return internal::MalformedJson(error);
    bool empty = false;
    ASSIGN_OR_RETURN(od::json_type first, FirstElementType(list, empty));
    if (!empty && first == od::json_type::object) {
      Table table(signature);
      RETURN_IF_ERROR(ReadRows(list, table, false, instances ? "instances" : "inputs"));
      return table.Finish(out);
    }
    if (column_signature) {
      Table table(signature);
      if (signature->inputs.size() == 1) {
        // One column: the list holds its values (MLflow maps it onto the only column).
        ASSIGN_OR_RETURN(ColumnBuilder * builder, table.AddColumn(signature->inputs[0].name));
        for (auto element : list) {
          od::value v;
          if (auto error = element.get(v)) return internal::MalformedJson(error);
          RETURN_IF_ERROR(AppendValue(builder, v, "column " + signature->inputs[0].name));
          RETURN_IF_ERROR(table.EndRow());
        }
        return table.Finish(out);
      }
      // Rows of values in the signature's column order.
      for (const TensorSpec& spec : signature->inputs) {
        RETURN_IF_ERROR(table.AddColumn(spec.name).status());
      }
      RETURN_IF_ERROR(ReadRows(list, table, true, instances ? "instances" : "inputs"));
      return table.Finish(out);
    }
  }
  // One unnamed tensor: a nested list or a single value.
  const TensorSpec* spec = nullptr;
  std::string name = "input";
  if (specs != nullptr) {
    if (specs->size() != 1) {
      return InvalidArgument("the model has " + std::to_string(specs->size()) +
                             " inputs: send a dict of named inputs");
    }
    spec = &specs->front();
    name = spec->name;
  }
  ASSIGN_OR_RETURN(Tensor t, ReadTensor(value, std::move(name), spec, is_list ? &list : nullptr));
  out.inputs.push_back(std::move(t));
  return Status::Ok();
}

Status CheckContentType(std::string_view content_type, bool& csv) {
  std::string_view rest = content_type;
  const size_t semi = rest.find(';');
  std::string_view mime = internal::TrimSpaces(rest.substr(0, semi));
  rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
  while (!rest.empty()) {
    const size_t next = rest.find(';');
    std::string_view param = internal::TrimSpaces(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    std::string_view key = internal::TrimSpaces(param.substr(0, eq));
    std::string_view val = eq == std::string_view::npos
                               ? std::string_view()
                               : internal::TrimSpaces(param.substr(eq + 1));
    if (internal::LowerEquals(key, "charset")) {
      if (!internal::LowerEquals(val, "utf-8") && !internal::LowerEquals(val, "\"utf-8\"")) {
        return Unimplemented("The scoring server only supports UTF-8");
      }
    } else {
      return Unimplemented("Unrecognized content type parameters: " + std::string(key) + ".");
    }
  }
  if (internal::LowerEquals(mime, "application/json")) {
    csv = false;
    return Status::Ok();
  }
  if (internal::LowerEquals(mime, "text/csv")) {
    csv = true;
    return Status::Ok();
  }
  return Unimplemented(
      "This predictor only supports the following content types: Types: ['text/csv', "
      "'application/json']. Got '" +
      std::string(content_type) + "'.");
}

// Python's json.dumps writes a missing value as the bare token NaN, which is not JSON; MLflow's
// client sends it that way. Rewrites NaN outside strings to null (read as NaN by float columns);
// empty when the body has no such token.
std::string NanToNull(std::string_view body) {
  if (body.find("NaN") == std::string_view::npos) return {};
  std::string out;
  bool in_string = false;
  bool rewritten = false;
  out.reserve(body.size() + 16);
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < body.size()) {
        out += body[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    auto is_word = [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    };
    if (c == 'N' && body.substr(i, 3) == "NaN" && (i == 0 || !is_word(body[i - 1])) &&
        (i + 3 == body.size() || !is_word(body[i + 3]))) {
      out += "null";
      i += 2;
      rewritten = true;
      continue;
    }
    out += c;
  }
  return rewritten ? out : std::string();
}

}  // namespace

StatusOr<PredictRequest> ParseMlflowInvocation(std::string_view body, std::string_view content_type,
                                               const std::optional<ModelSignature>& signature,
                                               const runtime::ModelInterface& model) {
  bool csv = false;
  RETURN_IF_ERROR(CheckContentType(content_type, csv));
  if (csv) return internal::ParseMlflowCsv(body, signature);
  const std::string rewritten = NanToNull(body);
  if (!rewritten.empty()) body = rewritten;

  od::document doc;
  if (auto error = internal::IterateBody(body, doc)) {
    return InvalidArgument(std::string("Invalid input. Ensure that input is a valid JSON "
                                       "formatted string. Error: ") +
                           simdjson::error_message(error));
  }
  od::object root;
  if (auto error = doc.get_object().get(root)) {
    if (error == simdjson::INCORRECT_TYPE) {
      return InvalidArgument(
          "Invalid input. The input must be a JSON dictionary with exactly one "
          "of the input fields " +
          std::string(kFormats) + ".");
    }
    return internal::MalformedJson(error);
  }
  PredictRequest out;
  std::string_view format;
  for (auto field : root) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return internal::MalformedJson(error);
    od::value value;
    if (auto error = field.value().get(value)) return internal::MalformedJson(error);
    const bool is_format = key == "dataframe_split" || key == "dataframe_records" ||
                           key == "instances" || key == "inputs";
    if (is_format) {
      if (!format.empty()) {
        return InvalidArgument(
            "Invalid input. The input must be a JSON dictionary with exactly "
            "one of the input fields " +
            std::string(kFormats) + ". Received both '" + std::string(format) + "' and '" +
            std::string(key) + "'.");
      }
      format = key == "dataframe_split"     ? "dataframe_split"
               : key == "dataframe_records" ? "dataframe_records"
               : key == "instances"         ? "instances"
                                            : "inputs";
      if (format == "dataframe_split") {
        Table table(signature);
        RETURN_IF_ERROR(ReadDataframeSplit(value, table, out));
      } else if (format == "dataframe_records") {
        od::array rows;
        if (value.get_array().get(rows)) {
          return InvalidArgument(
              "Invalid input. Dataframe records format must be a list of records.");
        }
        Table table(signature);
        RETURN_IF_ERROR(ReadRows(rows, table, false, "dataframe_records"));
        RETURN_IF_ERROR(table.Finish(out));
      } else {
        RETURN_IF_ERROR(ReadTensorInput(value, signature, model, format == "instances", out));
      }
    } else if (key == "params") {
      od::object params;
      if (value.get_object().get(params)) return InvalidArgument("'params' must be an object");
      std::string_view raw;
      if (auto error = params.raw_json().get(raw)) return internal::MalformedJson(error);
      out.params_json = raw;
    }
  }
  RETURN_IF_ERROR(internal::CheckConsumed(doc));
  if (format.empty()) {
    return InvalidArgument(
        "Invalid input. The input must be a JSON dictionary with exactly one "
        "of the input fields " +
        std::string(kFormats) + ".");
  }
  return out;
}

}  // namespace cairn::inference
