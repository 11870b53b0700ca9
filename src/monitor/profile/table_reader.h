#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "monitor/stats/column_values.h"
#include "runtime/mlmodel.h"

namespace cairn::monitor {

// One column of an uploaded table: its name and its present values.
struct NamedColumn {
  std::string name;
  ColumnValues values;
};

enum class TableFormat {
  kCsv,        // header row of column names, RFC 4180 quoting, LF or CRLF
  kJsonLines,  // one flat JSON object per line
};

// "csv" -> kCsv; "jsonl", "ndjson", "json" -> kJsonLines (case-insensitive); else nullopt.
std::optional<TableFormat> TableFormatFromName(std::string_view name);

using KindHints = std::map<std::string, FeatureKind, std::less<>>;

// The kind of each column of an MLflow column-based signature: double, float, long and integer
// columns are numeric; string, boolean, binary and datetime columns are categorical. Columns of
// any other type, and every input of a tensor-based signature, get no hint.
KindHints KindHintsFromSignature(const runtime::ModelSignature& signature);

struct TableReaderOptions {
  // More columns than this -> INVALID_ARGUMENT naming the line.
  size_t max_columns = 4096;
  // A CSV record (its quoted newlines included) or a JSON line longer than this ->
  // INVALID_ARGUMENT naming the line. This bounds the reader's input buffer.
  size_t max_line_bytes = size_t{1} << 20;
  // More data rows than this -> RESOURCE_EXHAUSTED naming the line.
  int64_t max_rows = 10'000'000;
  // Column name -> kind. A hinted-numeric column with a present value that is not a number is
  // INVALID_ARGUMENT. Unhinted columns are numeric when every present value parses as a number
  // and categorical otherwise. Hints naming absent columns are ignored.
  KindHints hints;
  // Columns to skip entirely (labels, ids). In JSON lines their values may be of any type.
  std::set<std::string, std::less<>> exclude;
};

// Reads a CSV or JSON-lines table incrementally into columns. Feed the input in chunks of any
// size (a chunk boundary may fall anywhere, even inside a quoted field or a UTF-8 sequence),
// then call Finish once and take the columns. Besides the columns it builds, the reader buffers
// at most one record (max_line_bytes), so a large upload can be read as it arrives. (Until
// Finish it also keeps the text of the numbers of each column without a hint, so that a column
// which later turns categorical keeps that text.)
//
// Missing values: an empty CSV cell; a CSV cell or JSON string spelled as one of pandas'
// default NA strings ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "<NA>", "#N/A",
// ...), matched exactly; in a column declared numeric also any other spelling of NaN ("NAN");
// JSON null; NaN in JSON (Python's json writes it); a key absent from a JSON line. As in pandas,
// other spellings of NaN in an undeclared column are text. Numbers: decimal and exponent notation,
// optional sign, surrounding spaces, "inf"/"infinity" in any case. In a categorical column numbers
// keep their text (JSON numbers as written by the shortest round-trip formatting) and JSON booleans
// read "true"/"false". A UTF-8 byte order mark at the start is skipped; blank lines are skipped. An
// empty CSV header name becomes "Unnamed: <index>" as in pandas; duplicate names are
// INVALID_ARGUMENT. Text must be UTF-8 (INVALID_ARGUMENT otherwise). A key repeated within one JSON
// line keeps its last value, as Python's json module does.
//
// Errors are INVALID_ARGUMENT (malformed input, with its 1-based physical line number; the
// CSV header is line 1) or RESOURCE_EXHAUSTED (max_rows). After an error every later call
// returns the same error. Not thread-safe.
class TableReader {
 public:
  using Options = TableReaderOptions;

  explicit TableReader(TableFormat format, Options options = {});

  Status Feed(std::string_view chunk);
  // Ends the input: reads a last line without a newline, rejects an unterminated quoted field
  // or a CSV input with no header. FAILED_PRECONDITION when called twice.
  Status Finish();
  // After a successful Finish: the columns in header (CSV) or first-seen (JSON lines) order,
  // excluded columns left out. Moves them out; a second call returns an empty vector.
  std::vector<NamedColumn> TakeColumns();

  // Progress: input bytes fed so far and data rows completed.
  int64_t bytes_consumed() const { return bytes_consumed_; }
  int64_t rows_read() const { return rows_; }

 private:
  struct Column {
    std::string name;
    bool excluded = false;
    std::optional<FeatureKind> hint;
    bool categorical = false;
    ColumnValues values;
    // While an unhinted column is still numeric: the text of each number, so that the column
    // can turn categorical keeping it.
    std::string raw_text;
    std::vector<size_t> raw_ends;
    int64_t last_row = -1;  // JSON lines: the last row that had this key
  };
  enum class CsvState { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kAfterCr };

  Status Consume(std::string_view data);
  Status ConsumeCsv(std::string_view data);
  Status ConsumeJsonLines(std::string_view data);
  Status EndCsvField();
  Status EndCsvRecord();
  Status ProcessJsonLine(std::string_view line);
  Status StartRow(int64_t line);
  StatusOr<Column*> AddColumn(std::string name, int64_t line);
  Status AddText(Column& column, std::string_view text, int64_t line);
  void AddNumber(Column& column, double value, std::string_view text);
  static void MakeCategorical(Column& column);
  Status Fail(Status status);

  TableFormat format_;
  Options options_;
  Status status_;
  bool finished_ = false;
  int64_t bytes_consumed_ = 0;
  int64_t rows_ = 0;
  int64_t line_ = 1;  // physical line the reader is in
  std::string bom_prefix_;
  bool bom_checked_ = false;

  std::vector<Column> columns_;
  std::map<std::string, size_t, std::less<>> column_index_;

  // CSV state.
  CsvState csv_state_ = CsvState::kFieldStart;
  bool header_done_ = false;
  std::string field_;
  std::vector<std::string> fields_;  // reused across records; the first nfields_ are live
  size_t nfields_ = 0;
  bool record_quoted_ = false;
  size_t record_bytes_ = 0;
  int64_t record_line_ = 1;

  // JSON lines state: the part of a line not yet ended by '\n'.
  std::string line_buffer_;
};

// Reads a whole table held in memory.
StatusOr<std::vector<NamedColumn>> ReadTable(std::string_view data, TableFormat format,
                                             TableReaderOptions options = {});

}  // namespace cairn::monitor
