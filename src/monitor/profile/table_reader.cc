#include "monitor/profile/table_reader.h"

#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "base/ascii.h"
#include "base/utf8.h"

namespace cairn::monitor {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// pandas.read_csv's default na_values (pandas._libs.parsers.STR_NA_VALUES), matched exactly.
constexpr std::array<std::string_view, 19> kNaValues = {
    "",     "#N/A", "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A",  "NA",       "NULL", "NaN",     "None",     "n/a",  "nan",  "null"};

bool IsNaToken(std::string_view text) {
  for (std::string_view na : kNaValues) {
    if (text == na) return true;
  }
  return false;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsNanSpelling(std::string_view text) {
  text = TrimSpaces(text);
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
  return EqualsIgnoreCase(text, "nan");
}

// A number as pandas' parser reads one. Not NaN: pandas reads only the spellings in kNaValues
// as missing and leaves others ("NAN") as text, which makes the column categorical.
std::optional<double> ParseNumber(std::string_view text) {
  std::string_view s = TrimSpaces(text);
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  const char first = s.front();
  if (!((first >= '0' && first <= '9') || first == '.')) {
    if (EqualsIgnoreCase(s, "inf") || EqualsIgnoreCase(s, "infinity")) {
      return negative ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
    }
    return std::nullopt;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (end != s.data() + s.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves `value` unchanged on overflow and underflow; read it as strtod does.
    value = std::strtod(std::string(s).c_str(), nullptr);
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

std::string Line(int64_t line) { return "line " + std::to_string(line); }

// Python's json.dumps writes NaN, Infinity and -Infinity, which are not JSON. Outside strings,
// rewrites NaN as null and the infinities as strings (which ParseNumber reads back).
std::optional<std::string> RewritePythonSpecials(std::string_view line) {
  std::string out;
  out.reserve(line.size() + 8);
  bool in_string = false;
  bool changed = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < line.size()) {
        out.push_back(line[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (line.substr(i).starts_with("NaN")) {
      out.append("null");
      i += 2;
      changed = true;
      continue;
    } else if (line.substr(i).starts_with("Infinity")) {
      out.append("\"Infinity\"");
      i += 7;
      changed = true;
      continue;
    } else if (line.substr(i).starts_with("-Infinity")) {
      out.append("\"-Infinity\"");
      i += 8;
      changed = true;
      continue;
    }
    out.push_back(c);
  }
  if (!changed) return std::nullopt;
  return out;
}

// A JSON number's text: integers as written, doubles in the shortest round-trip form.
std::string JsonNumberText(const boost::json::value& value) {
  if (value.is_int64()) return std::to_string(value.get_int64());
  if (value.is_uint64()) return std::to_string(value.get_uint64());
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value.get_double());
  if (ec != std::errc()) return "nan";
  return std::string(buf.data(), end);
}

}  // namespace

std::optional<TableFormat> TableFormatFromName(std::string_view name) {
  if (EqualsIgnoreCase(name, "csv")) return TableFormat::kCsv;
  if (EqualsIgnoreCase(name, "jsonl") || EqualsIgnoreCase(name, "ndjson") ||
      EqualsIgnoreCase(name, "json")) {
    return TableFormat::kJsonLines;
  }
  return std::nullopt;
}

KindHints KindHintsFromSignature(const runtime::ModelSignature& signature) {
  KindHints hints;
  if (signature.tensor_based) return hints;
  const size_t n = std::min(signature.inputs.size(), signature.input_column_types.size());
  for (size_t i = 0; i < n; ++i) {
    const std::string& type = signature.input_column_types[i];
    std::optional<FeatureKind> kind;
    if (type == "double" || type == "float" || type == "long" || type == "integer") {
      kind = FeatureKind::kNumeric;
    } else if (type == "string" || type == "boolean" || type == "binary" || type == "datetime") {
      kind = FeatureKind::kCategorical;
    }
    if (kind.has_value() && !signature.inputs[i].name.empty()) {
      hints.emplace(signature.inputs[i].name, *kind);
    }
  }
  return hints;
}

TableReader::TableReader(TableFormat format, Options options)
    : format_(format), options_(std::move(options)) {}

Status TableReader::Fail(Status status) {
  if (status_.ok()) status_ = std::move(status);
  return status_;
}

Status TableReader::Feed(std::string_view chunk) {
  if (!status_.ok()) return status_;
  if (finished_) return FailedPrecondition("TableReader::Feed after Finish");
  bytes_consumed_ += static_cast<int64_t>(chunk.size());
  if (!bom_checked_) {
    // Holds back up to three bytes until it is known whether they are a byte order mark.
    while (!chunk.empty() && bom_prefix_.size() < kBom.size() &&
           kBom.starts_with(bom_prefix_ + chunk.front())) {
      bom_prefix_.push_back(chunk.front());
      chunk.remove_prefix(1);
    }
    if (bom_prefix_.size() < kBom.size() && chunk.empty()) return Status::Ok();
    bom_checked_ = true;
    if (bom_prefix_ != kBom) RETURN_IF_ERROR(Consume(bom_prefix_));
    bom_prefix_.clear();
  }
  return Consume(chunk);
}

Status TableReader::Consume(std::string_view data) {
  Status s = format_ == TableFormat::kCsv ? ConsumeCsv(data) : ConsumeJsonLines(data);
  if (!s.ok()) return Fail(std::move(s));
  return Status::Ok();
}

Status TableReader::Finish() {
  if (!status_.ok()) return status_;
  if (finished_) return FailedPrecondition("TableReader::Finish called twice");
  finished_ = true;
  if (!bom_checked_) {
    bom_checked_ = true;
    RETURN_IF_ERROR(Consume(bom_prefix_));
  }
  if (format_ == TableFormat::kCsv) {
    if (csv_state_ == CsvState::kQuoted) {
      return Fail(InvalidArgument("unterminated quoted field starting on " + Line(record_line_)));
    }
    const bool pending =
        nfields_ > 0 || (csv_state_ != CsvState::kFieldStart && csv_state_ != CsvState::kAfterCr);
    if (pending) {
      Status s = EndCsvField();
      if (s.ok()) s = EndCsvRecord();
      if (!s.ok()) return Fail(std::move(s));
    }
    if (!header_done_) return Fail(InvalidArgument("the CSV input has no header row"));
  } else if (!line_buffer_.empty()) {
    std::string line = std::move(line_buffer_);
    line_buffer_.clear();
    Status s = ProcessJsonLine(line);
    if (!s.ok()) return Fail(std::move(s));
  }
  for (Column& column : columns_) {
    column.values.kind = column.categorical ? FeatureKind::kCategorical : FeatureKind::kNumeric;
    if (column.categorical) column.values.numbers = {};
    column.raw_text = {};
    column.raw_ends = {};
  }
  return Status::Ok();
}

std::vector<NamedColumn> TableReader::TakeColumns() {
  std::vector<NamedColumn> out;
  if (!finished_ || !status_.ok()) return out;
  for (Column& column : columns_) {
    if (column.excluded) continue;
    out.push_back(NamedColumn{.name = std::move(column.name), .values = std::move(column.values)});
  }
  columns_.clear();
  column_index_.clear();
  return out;
}

StatusOr<TableReader::Column*> TableReader::AddColumn(std::string name, int64_t line) {
  if (columns_.size() >= options_.max_columns) {
    return InvalidArgument(Line(line) + ": more than " + std::to_string(options_.max_columns) +
                           " columns");
  }
  if (column_index_.contains(name)) {
    return InvalidArgument(Line(line) + ": duplicate column name '" + name + "'");
  }
  Column& column = columns_.emplace_back();
  column.name = std::move(name);
  column.excluded = options_.exclude.contains(column.name);
  if (auto it = options_.hints.find(column.name); it != options_.hints.end()) {
    column.hint = it->second;
    column.categorical = it->second == FeatureKind::kCategorical;
  }
  column_index_.emplace(column.name, columns_.size() - 1);
  return &column;
}

void TableReader::MakeCategorical(Column& column) {
  column.categorical = true;
  column.values.strings.reserve(column.raw_ends.size());
  size_t begin = 0;
  for (size_t end : column.raw_ends) {
    column.values.strings.emplace_back(column.raw_text.substr(begin, end - begin));
    begin = end;
  }
  column.values.numbers = {};
  column.raw_text = {};
  column.raw_ends = {};
}

Status TableReader::AddText(Column& column, std::string_view text, int64_t line) {
  if (column.excluded) return Status::Ok();
  if (IsNaToken(text)) {
    ++column.values.missing;
    return Status::Ok();
  }
  if (column.categorical) {
    column.values.strings.emplace_back(text);
    return Status::Ok();
  }
  if (std::optional<double> number = ParseNumber(text)) {
    AddNumber(column, *number, text);
    return Status::Ok();
  }
  if (column.hint.has_value()) {
    if (IsNanSpelling(text)) {
      ++column.values.missing;
      return Status::Ok();
    }
    return InvalidArgument(Line(line) + ", column '" + column.name + "': '" +
                           std::string(text.substr(0, 64)) +
                           "' is not a number and the column is declared numeric");
  }
  MakeCategorical(column);
  column.values.strings.emplace_back(text);
  return Status::Ok();
}

void TableReader::AddNumber(Column& column, double value, std::string_view text) {
  if (column.excluded) return;
  if (std::isnan(value)) {
    ++column.values.missing;
  } else if (column.categorical) {
    column.values.strings.emplace_back(text);
  } else {
    column.values.numbers.push_back(value);
    if (!column.hint.has_value()) {
      column.raw_text.append(text);
      column.raw_ends.push_back(column.raw_text.size());
    }
  }
}

Status TableReader::StartRow(int64_t line) {
  if (rows_ >= options_.max_rows) {
    return Status(StatusCode::kResourceExhausted, Line(line) + ": the table has more than " +
                                                      std::to_string(options_.max_rows) + " rows");
  }
  return Status::Ok();
}

// ---- CSV -------------------------------------------------------------------------------------

Status TableReader::EndCsvField() {
  if (nfields_ == fields_.size()) fields_.emplace_back();
  fields_[nfields_].swap(field_);
  field_.clear();
  ++nfields_;
  return Status::Ok();
}

Status TableReader::EndCsvRecord() {
  const size_t n = nfields_;
  const int64_t line = record_line_;
  nfields_ = 0;
  record_bytes_ = 0;
  const bool blank = n == 1 && fields_[0].empty() && !record_quoted_;
  record_quoted_ = false;
  record_line_ = line_;
  if (blank) return Status::Ok();
  if (!header_done_) {
    header_done_ = true;
    for (size_t i = 0; i < n; ++i) {
      if (!IsValidUtf8(fields_[i])) return InvalidArgument(Line(line) + ": invalid UTF-8");
      std::string name = fields_[i].empty() ? "Unnamed: " + std::to_string(i) : fields_[i];
      ASSIGN_OR_RETURN(Column * column, AddColumn(std::move(name), line));
      (void)column;
    }
    return Status::Ok();
  }
  if (n != columns_.size()) {
    return InvalidArgument(Line(line) + " has " + std::to_string(n) + " fields, the header has " +
                           std::to_string(columns_.size()));
  }
  RETURN_IF_ERROR(StartRow(line));
  for (size_t i = 0; i < n; ++i) {
    if (columns_[i].excluded) continue;
    if (!IsValidUtf8(fields_[i])) {
      return InvalidArgument(Line(line) + ", column '" + columns_[i].name + "': invalid UTF-8");
    }
    RETURN_IF_ERROR(AddText(columns_[i], fields_[i], line));
  }
  ++rows_;
  return Status::Ok();
}

Status TableReader::ConsumeCsv(std::string_view data) {
  const char* p = data.data();
  const size_t n = data.size();
  size_t i = 0;
  auto check_length = [&](size_t added) -> Status {
    record_bytes_ += added;
    if (record_bytes_ > options_.max_line_bytes) {
      return InvalidArgument(Line(record_line_) + " is longer than " +
                             std::to_string(options_.max_line_bytes) + " bytes");
    }
    return Status::Ok();
  };
  // Ends the record at a '\n' or '\r' at p[i] (not yet consumed).
  auto end_record = [&]() -> Status {
    RETURN_IF_ERROR(EndCsvField());
    const char c = p[i++];
    ++line_;
    RETURN_IF_ERROR(EndCsvRecord());
    csv_state_ = c == '\r' ? CsvState::kAfterCr : CsvState::kFieldStart;
    return Status::Ok();
  };
  while (i < n) {
    switch (csv_state_) {
      case CsvState::kAfterCr:
        csv_state_ = CsvState::kFieldStart;
        if (p[i] == '\n') ++i;
        break;
      case CsvState::kFieldStart: {
        const char c = p[i];
        if (c == '"') {
          RETURN_IF_ERROR(check_length(1));
          ++i;
          record_quoted_ = true;
          csv_state_ = CsvState::kQuoted;
        } else if (c == ',') {
          RETURN_IF_ERROR(check_length(1));
          ++i;
          RETURN_IF_ERROR(EndCsvField());
        } else if (c == '\n' || c == '\r') {
          RETURN_IF_ERROR(end_record());
        } else {
          csv_state_ = CsvState::kUnquoted;
        }
        break;
      }
      case CsvState::kUnquoted: {
        const size_t start = i;
        while (i < n && p[i] != ',' && p[i] != '\n' && p[i] != '\r') ++i;
        RETURN_IF_ERROR(check_length(i - start));
        field_.append(p + start, i - start);
        if (i == n) break;
        if (p[i] == ',') {
          RETURN_IF_ERROR(check_length(1));
          ++i;
          RETURN_IF_ERROR(EndCsvField());
          csv_state_ = CsvState::kFieldStart;
        } else {
          RETURN_IF_ERROR(end_record());
        }
        break;
      }
      case CsvState::kQuoted: {
        const size_t start = i;
        while (i < n && p[i] != '"') {
          if (p[i] == '\n') ++line_;
          ++i;
        }
        RETURN_IF_ERROR(check_length(i - start + (i < n ? 1 : 0)));
        field_.append(p + start, i - start);
        if (i < n) {
          ++i;
          csv_state_ = CsvState::kQuoteInQuoted;
        }
        break;
      }
      case CsvState::kQuoteInQuoted: {
        const char c = p[i];
        if (c == '"') {
          RETURN_IF_ERROR(check_length(1));
          ++i;
          field_.push_back('"');
          csv_state_ = CsvState::kQuoted;
        } else if (c == ',') {
          RETURN_IF_ERROR(check_length(1));
          ++i;
          RETURN_IF_ERROR(EndCsvField());
          csv_state_ = CsvState::kFieldStart;
        } else if (c == '\n' || c == '\r') {
          RETURN_IF_ERROR(end_record());
        } else {
          return InvalidArgument(Line(line_) + ": unexpected character after a closing quote");
        }
        break;
      }
    }
  }
  return Status::Ok();
}

// ---- JSON lines ------------------------------------------------------------------------------

Status TableReader::ConsumeJsonLines(std::string_view data) {
  while (!data.empty()) {
    const size_t newline = data.find('\n');
    const std::string_view part =
        newline == std::string_view::npos ? data : data.substr(0, newline);
    if (line_buffer_.size() + part.size() > options_.max_line_bytes) {
      return InvalidArgument(Line(line_) + " is longer than " +
                             std::to_string(options_.max_line_bytes) + " bytes");
    }
    if (newline == std::string_view::npos) {
      line_buffer_.append(part);
      return Status::Ok();
    }
    if (line_buffer_.empty()) {
      RETURN_IF_ERROR(ProcessJsonLine(part));
    } else {
      line_buffer_.append(part);
      RETURN_IF_ERROR(ProcessJsonLine(line_buffer_));
      line_buffer_.clear();
    }
    ++line_;
    data.remove_prefix(newline + 1);
  }
  return Status::Ok();
}

Status TableReader::ProcessJsonLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return Status::Ok();

  // Lines are bounded by max_line_bytes; most parse within the stack buffer.
  std::array<unsigned char, 16384> buffer;
  boost::json::monotonic_resource resource(buffer.data(), buffer.size());
  boost::json::parse_options parse_options;
  parse_options.max_depth = 16;
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(line, ec, &resource, parse_options);
  if (ec) {
    if (std::optional<std::string> rewritten = RewritePythonSpecials(line)) {
      ec.clear();
      parsed = boost::json::parse(*rewritten, ec, &resource, parse_options);
    }
  }
  if (ec) return InvalidArgument(Line(line_) + " is not valid JSON: " + ec.message());
  const boost::json::object* object = parsed.if_object();
  if (object == nullptr) return InvalidArgument(Line(line_) + " is not a JSON object");

  RETURN_IF_ERROR(StartRow(line_));
  for (const auto& [key_view, value] : *object) {
    const std::string_view key(key_view.data(), key_view.size());
    Column* column = nullptr;
    if (auto it = column_index_.find(key); it != column_index_.end()) {
      column = &columns_[it->second];
    } else {
      ASSIGN_OR_RETURN(column, AddColumn(std::string(key), line_));
      column->values.missing = rows_;  // absent from every earlier row
    }
    column->last_row = rows_;
    if (column->excluded) continue;
    switch (value.kind()) {
      case boost::json::kind::null:
        ++column->values.missing;
        break;
      case boost::json::kind::bool_:
        RETURN_IF_ERROR(AddText(*column, value.get_bool() ? "true" : "false", line_));
        break;
      case boost::json::kind::int64:
      case boost::json::kind::uint64:
      case boost::json::kind::double_: {
        const double number = value.to_number<double>();
        // The text is needed only while the column may still turn categorical.
        const bool needs_text = column->categorical || !column->hint.has_value();
        AddNumber(*column, number, needs_text ? JsonNumberText(value) : std::string());
        break;
      }
      case boost::json::kind::string: {
        const boost::json::string& s = value.get_string();
        RETURN_IF_ERROR(AddText(*column, std::string_view(s.data(), s.size()), line_));
        break;
      }
      case boost::json::kind::array:
      case boost::json::kind::object:
        return InvalidArgument(Line(line_) + ", key '" + std::string(key) +
                               "': nested arrays and objects are not supported");
    }
  }
  for (Column& column : columns_) {
    if (column.last_row != rows_ && !column.excluded) ++column.values.missing;
  }
  ++rows_;
  return Status::Ok();
}

StatusOr<std::vector<NamedColumn>> ReadTable(std::string_view data, TableFormat format,
                                             TableReaderOptions options) {
  TableReader reader(format, std::move(options));
  RETURN_IF_ERROR(reader.Feed(data));
  RETURN_IF_ERROR(reader.Finish());
  return reader.TakeColumns();
}

}  // namespace cairn::monitor
