#include "api/inference/mlflow_table.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "base/ascii.h"

namespace cairn::inference::internal {
namespace {

using runtime::DataType;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> TextToInt(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Python's float(): decimal numbers plus nan/inf/infinity in any case and sign.
std::optional<double> TextToDouble(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  std::string_view body = s;
  bool negative = false;
  if (body.front() == '+' || body.front() == '-') {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (EqualsIgnoreCase(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
  if (EqualsIgnoreCase(body, "inf") || EqualsIgnoreCase(body, "infinity")) {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (body.empty() || !((body.front() >= '0' && body.front() <= '9') || body.front() == '.')) {
    return std::nullopt;
  }
  double v = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec != std::errc() || end != body.data() + body.size()) return std::nullopt;
  return negative ? -v : v;
}

std::optional<bool> TextToBool(std::string_view s) {
  s = Trim(s);
  if (EqualsIgnoreCase(s, "true") || s == "1") return true;
  if (EqualsIgnoreCase(s, "false") || s == "0") return false;
  return std::nullopt;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Python's base64.decodebytes: whitespace ignored, '=' padding optional at the end.
std::optional<std::string> Base64Decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : in) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int v = Base64Value(c);
    if (v < 0 || padding) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (bits >= 6) return std::nullopt;
  return out;
}

std::string CellText(const Cell& cell) {
  switch (cell.kind) {
    case Cell::Kind::kNull:
      return "null";
    case Cell::Kind::kBool:
      return cell.b ? "true" : "false";
    case Cell::Kind::kInt:
      return std::to_string(cell.i);
    case Cell::Kind::kUint:
      return std::to_string(cell.u);
    case Cell::Kind::kDouble: {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), cell.d);
      return std::string(buf, end);
    }
    default: {
      std::string_view t = cell.text.substr(0, 40);
      return "'" + std::string(t) + (cell.text.size() > 40 ? "...'" : "'");
    }
  }
}

template <typename T>
bool FitsInteger(const Cell& cell, T& out) {
  switch (cell.kind) {
    case Cell::Kind::kInt:
      if (cell.i < static_cast<int64_t>(std::numeric_limits<T>::min())) return false;
      if (cell.i >= 0 && static_cast<uint64_t>(cell.i) > std::numeric_limits<T>::max()) {
        return false;
      }
      out = static_cast<T>(cell.i);
      return true;
    case Cell::Kind::kUint:
      if (cell.u > std::numeric_limits<T>::max()) return false;
      out = static_cast<T>(cell.u);
      return true;
    case Cell::Kind::kDouble:
      // 2.0 is accepted; 2.5 and values past the type's range are not.
      if (!(cell.d == std::floor(cell.d)) ||
          cell.d < static_cast<double>(std::numeric_limits<T>::min()) ||
          cell.d >= std::ldexp(1.0, std::numeric_limits<T>::digits)) {
        return false;
      }
      out = static_cast<T>(cell.d);
      return true;
    case Cell::Kind::kString:
    case Cell::Kind::kCsvText: {
      if (std::optional<int64_t> v = TextToInt(cell.text)) {
        Cell number{.kind = Cell::Kind::kInt, .i = *v};
        return FitsInteger(number, out);
      }
      if (std::optional<double> d = TextToDouble(cell.text)) {
        Cell number{.kind = Cell::Kind::kDouble, .d = *d};
        return FitsInteger(number, out);
      }
      return false;
    }
    default:
      return false;
  }
}

}  // namespace

ColumnBuilder::ColumnBuilder(std::string name, std::optional<DataType> target,
                             std::string_view mlflow_type)
    : name_(std::move(name)), target_(target) {
  base64_ = mlflow_type == "binary";
  raw_json_ = target && *target == DataType::kBytes && !mlflow_type.empty() &&
              mlflow_type != "string" && mlflow_type != "binary" && mlflow_type != "datetime" &&
              mlflow_type != "object" && mlflow_type != "str" && mlflow_type != "bytes";
  tensor_.name = name_;
  if (target_) tensor_.type = *target_;
}

Status ColumnBuilder::Error(const Cell& cell, std::string_view what) const {
  return InvalidArgument("Data is not compatible with model signature. Failed to convert column " +
                         name_ + " to type '" + std::string(runtime::DataTypeName(tensor_.type)) +
                         "': value " + CellText(cell) + " at row " + std::to_string(rows_) + " " +
                         std::string(what));
}

template <typename T>
void ColumnBuilder::Push(T v) {
  const size_t at = tensor_.data.size();
  tensor_.data.resize(at + sizeof(T));
  std::memcpy(tensor_.data.data() + at, &v, sizeof(T));
}

Status ColumnBuilder::Append(const Cell& cell) {
  RETURN_IF_ERROR(target_ ? AppendTarget(cell) : AppendInferred(cell));
  ++rows_;
  return Status::Ok();
}

Status ColumnBuilder::PadTo(int64_t rows) {
  while (rows_ < rows) RETURN_IF_ERROR(Append(Cell{}));
  return Status::Ok();
}

Status ColumnBuilder::AppendTarget(const Cell& cell) {
  using Kind = Cell::Kind;
  switch (*target_) {
    case DataType::kFp64:
    case DataType::kFp32: {
      double d = 0;
      switch (cell.kind) {
        case Kind::kNull:
          d = std::numeric_limits<double>::quiet_NaN();
          break;
        case Kind::kBool:
          d = cell.b ? 1 : 0;
          break;
        case Kind::kInt:
          d = static_cast<double>(cell.i);
          break;
        case Kind::kUint:
          d = static_cast<double>(cell.u);
          break;
        case Kind::kDouble:
          d = cell.d;
          break;
        case Kind::kCsvText:
          if (Trim(cell.text).empty()) {
            d = std::numeric_limits<double>::quiet_NaN();
            break;
          }
          [[fallthrough]];
        case Kind::kString: {
          std::optional<double> parsed = TextToDouble(cell.text);
          if (!parsed) return Error(cell, "is not a number");
          d = *parsed;
          break;
        }
        case Kind::kRawJson:
          return Error(cell, "is not a number");
      }
      if (*target_ == DataType::kFp64) {
        Push(d);
      } else {
        if (std::isfinite(d) && std::abs(d) > std::numeric_limits<float>::max()) {
          return Error(cell, "is out of range for FP32");
        }
        Push(static_cast<float>(d));
      }
      return Status::Ok();
    }
    case DataType::kBool: {
      std::optional<bool> b;
      if (cell.kind == Kind::kBool) b = cell.b;
      if (cell.kind == Kind::kInt && (cell.i == 0 || cell.i == 1)) b = cell.i == 1;
      if (cell.kind == Kind::kString || cell.kind == Kind::kCsvText) b = TextToBool(cell.text);
      if (!b) return Error(cell, "is not a boolean");
      Push<uint8_t>(*b ? 1 : 0);
      return Status::Ok();
    }
    case DataType::kBytes: {
      if (raw_json_) {
        tensor_.strings.emplace_back(cell.kind == Kind::kNull ? "null" : cell.text);
        return Status::Ok();
      }
      if (cell.kind == Kind::kCsvText) {
        tensor_.strings.emplace_back(cell.text);
        return Status::Ok();
      }
      if (cell.kind != Kind::kString) {
        return Error(cell, cell.kind == Kind::kNull ? "is missing" : "is not a string");
      }
      if (base64_) {
        std::optional<std::string> decoded = Base64Decode(cell.text);
        if (!decoded) return Error(cell, "is not base64");
        tensor_.strings.push_back(std::move(*decoded));
      } else {
        tensor_.strings.emplace_back(cell.text);
      }
      return Status::Ok();
    }
    case DataType::kFp16:
    case DataType::kBf16:
      return Error(cell, "cannot be converted: FP16/BF16 columns are not supported");
    default:
      break;
  }
  const char* missing = cell.kind == Kind::kNull ? "is missing" : "is not an integer in range";
  bool ok = false;
  switch (*target_) {
#define CAIRN_INTEGER_CASE(kType, T) \
  case DataType::kType: {            \
    T v{};                           \
    ok = FitsInteger(cell, v);       \
    if (ok) Push(v);                 \
    break;                           \
  }
    CAIRN_INTEGER_CASE(kInt8, int8_t)
    CAIRN_INTEGER_CASE(kInt16, int16_t)
    CAIRN_INTEGER_CASE(kInt32, int32_t)
    CAIRN_INTEGER_CASE(kInt64, int64_t)
    CAIRN_INTEGER_CASE(kUint8, uint8_t)
    CAIRN_INTEGER_CASE(kUint16, uint16_t)
    CAIRN_INTEGER_CASE(kUint32, uint32_t)
    CAIRN_INTEGER_CASE(kUint64, uint64_t)
#undef CAIRN_INTEGER_CASE
    default:
      break;
  }
  if (!ok) return Error(cell, missing);
  return Status::Ok();
}

Status ColumnBuilder::AppendInferred(const Cell& cell) {
  using Kind = Cell::Kind;
  Inferred kind = Inferred::kNone;
  switch (cell.kind) {
    case Kind::kNull:
      saw_null_ = true;
      doubles_.push_back(std::numeric_limits<double>::quiet_NaN());
      ints_.push_back(0);
      return Status::Ok();
    case Kind::kBool:
      kind = Inferred::kBool;
      break;
    case Kind::kInt:
      kind = Inferred::kInt;
      break;
    case Kind::kUint:
      return InvalidArgument("column " + name_ + ": value " + CellText(cell) + " at row " +
                             std::to_string(rows_) + " is out of range for INT64");
    case Kind::kDouble:
      kind = Inferred::kDouble;
      break;
    case Kind::kString:
    case Kind::kCsvText:
    case Kind::kRawJson:
      kind = Inferred::kString;
      break;
  }
  if (inferred_ == Inferred::kNone) {
    inferred_ = kind;
  } else if (inferred_ != kind) {
    if ((inferred_ == Inferred::kInt && kind == Inferred::kDouble) ||
        (inferred_ == Inferred::kDouble && kind == Inferred::kInt)) {
      inferred_ = Inferred::kDouble;
    } else {
      return InvalidArgument("column " + name_ + " mixes value types (value " + CellText(cell) +
                             " at row " + std::to_string(rows_) +
                             "); without a model signature each column needs one type");
    }
  }
  switch (kind) {
    case Inferred::kBool:
      ints_.push_back(cell.b ? 1 : 0);
      doubles_.push_back(cell.b ? 1 : 0);
      break;
    case Inferred::kInt:
      ints_.push_back(cell.i);
      doubles_.push_back(static_cast<double>(cell.i));
      break;
    case Inferred::kDouble:
      ints_.push_back(0);
      doubles_.push_back(cell.d);
      break;
    default:
      tensor_.strings.emplace_back(cell.text);
      break;
  }
  return Status::Ok();
}

StatusOr<runtime::Tensor> ColumnBuilder::Finish() {
  tensor_.shape = {rows_};
  if (!target_) {
    Inferred kind = inferred_;
    if (saw_null_ && (kind == Inferred::kInt || kind == Inferred::kNone)) kind = Inferred::kDouble;
    if (saw_null_ && (kind == Inferred::kBool || kind == Inferred::kString)) {
      return InvalidArgument("column " + name_ + " has missing values (null) among " +
                             (kind == Inferred::kBool ? "booleans" : "strings"));
    }
    switch (kind) {
      case Inferred::kInt:
        tensor_.type = DataType::kInt64;
        tensor_.data.resize(ints_.size() * sizeof(int64_t));
        std::memcpy(tensor_.data.data(), ints_.data(), tensor_.data.size());
        break;
      case Inferred::kNone:
      case Inferred::kDouble:
        tensor_.type = DataType::kFp64;
        tensor_.data.resize(doubles_.size() * sizeof(double));
        std::memcpy(tensor_.data.data(), doubles_.data(), tensor_.data.size());
        break;
      case Inferred::kBool:
        tensor_.type = DataType::kBool;
        tensor_.data.resize(ints_.size());
        for (size_t k = 0; k < ints_.size(); ++k) tensor_.data[k] = std::byte(ints_[k]);
        break;
      case Inferred::kString:
        tensor_.type = DataType::kBytes;
        break;
    }
  }
  return std::move(tensor_);
}

DataType InferCsvType(const std::vector<std::string_view>& cells) {
  bool all_int = true;
  bool all_number = true;
  bool all_bool = true;
  bool any_empty = false;
  bool any_value = false;
  for (std::string_view cell : cells) {
    if (Trim(cell).empty()) {
      any_empty = true;
      continue;
    }
    any_value = true;
    all_int = all_int && TextToInt(cell).has_value();
    all_number = all_number && (all_int || TextToDouble(cell).has_value());
    // pandas.read_csv reads only these spellings as booleans.
    const std::string_view t = Trim(cell);
    all_bool = all_bool && (t == "True" || t == "False" || t == "true" || t == "false" ||
                            t == "TRUE" || t == "FALSE");
  }
  if (!any_value) return DataType::kFp64;
  if (all_int) return any_empty ? DataType::kFp64 : DataType::kInt64;
  if (all_number) return DataType::kFp64;
  if (all_bool && !any_empty) return DataType::kBool;
  return DataType::kBytes;
}

Status ParseCsv(std::string_view body, CsvTable& out) {
  std::vector<std::string_view> row;
  std::vector<std::vector<std::string_view>> rows;
  size_t i = 0;
  size_t line = 1;
  bool first_row = true;
  auto finish_row = [&]() -> Status {
    if (first_row) {
      for (std::string_view name : row) out.header.emplace_back(name);
      out.columns.resize(out.header.size());
      first_row = false;
    } else if (!(row.size() == 1 && row[0].empty())) {  // blank lines are skipped, as pandas
      if (row.size() != out.header.size()) {
        return InvalidArgument("Failed to parse input as a Pandas DataFrame: CSV line " +
                               std::to_string(line) + " has " + std::to_string(row.size()) +
                               " fields, the header has " + std::to_string(out.header.size()));
      }
      for (size_t c = 0; c < row.size(); ++c) out.columns[c].push_back(row[c]);
    }
    row.clear();
    ++line;
    return Status::Ok();
  };
  if (body.empty())
    return InvalidArgument("Failed to parse input as a Pandas DataFrame: empty CSV");
  while (i <= body.size()) {
    if (i < body.size() && body[i] == '"') {
      std::string& field = out.storage.emplace_back();
      ++i;
      while (true) {
        if (i >= body.size()) {
          return InvalidArgument(
              "Failed to parse input as a Pandas DataFrame: unterminated "
              "quoted field on CSV line " +
              std::to_string(line));
        }
        if (body[i] == '"') {
          if (i + 1 < body.size() && body[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.push_back(body[i++]);
      }
      row.push_back(field);
    } else {
      const size_t start = i;
      while (i < body.size() && body[i] != ',' && body[i] != '\n' && body[i] != '\r') ++i;
      row.push_back(body.substr(start, i - start));
    }
    if (i >= body.size()) {
      if (!(row.size() == 1 && row[0].empty() && !first_row)) RETURN_IF_ERROR(finish_row());
      break;
    }
    if (body[i] == ',') {
      ++i;
      continue;
    }
    if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
    if (body[i] == '\n' || body[i] == '\r') {
      ++i;
      RETURN_IF_ERROR(finish_row());
      if (i == body.size()) break;
      continue;
    }
    return InvalidArgument(
        "Failed to parse input as a Pandas DataFrame: unexpected character "
        "after a quoted field on CSV line " +
        std::to_string(line));
  }
  if (out.header.empty() || (out.header.size() == 1 && out.header[0].empty())) {
    return InvalidArgument(
        "Failed to parse input as a Pandas DataFrame: no columns in the CSV "
        "header");
  }
  return Status::Ok();
}

std::string PythonList(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out.append(", ");
    out.append("'").append(names[i]).append("'");
  }
  return out + "]";
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool LowerEquals(std::string_view a, std::string_view b) { return EqualsIgnoreCase(a, b); }

StatusOr<runtime::PredictRequest> ParseMlflowCsv(
    std::string_view body, const std::optional<runtime::ModelSignature>& signature) {
  CsvTable csv;
  RETURN_IF_ERROR(ParseCsv(body, csv));
  Table table(signature);
  runtime::PredictRequest out;
  for (size_t c = 0; c < csv.header.size(); ++c) {
    ASSIGN_OR_RETURN(ColumnBuilder * builder, table.AddColumn(csv.header[c]));
    (void)builder;
  }
  // Column types: the signature's, else what pandas.read_csv would infer; cells are then
  // converted by the same rules as JSON strings.
  std::vector<std::unique_ptr<ColumnBuilder>> inferred;
  for (size_t c = 0; c < csv.header.size(); ++c) {
    ColumnBuilder* builder = table.builder(c);
    if (builder == nullptr) continue;
    if (!table.has_signature()) {
      inferred.push_back(
          std::make_unique<ColumnBuilder>(csv.header[c], InferCsvType(csv.columns[c]), ""));
      builder = inferred.back().get();
    }
    for (std::string_view text : csv.columns[c]) {
      RETURN_IF_ERROR(builder->Append(Cell{.kind = Cell::Kind::kCsvText, .text = text}));
    }
  }
  if (!table.has_signature()) {
    out.columnar = true;
    for (auto& b : inferred) {
      ASSIGN_OR_RETURN(runtime::Tensor t, b->Finish());
      out.inputs.push_back(std::move(t));
    }
    return out;
  }
  RETURN_IF_ERROR(table.Finish(out));
  return out;
}

}  // namespace cairn::inference::internal
