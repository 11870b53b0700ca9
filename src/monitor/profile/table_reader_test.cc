#include "monitor/profile/table_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "base/status_testing.h"

namespace cairn::monitor {
namespace {

std::vector<double> Nums(std::initializer_list<double> v) { return v; }
std::vector<std::string> Strs(std::initializer_list<const char*> v) { return {v.begin(), v.end()}; }

const NamedColumn* Find(const std::vector<NamedColumn>& columns, std::string_view name) {
  for (const NamedColumn& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// Feeds `data` in chunks of `chunk` bytes.
StatusOr<std::vector<NamedColumn>> ReadChunked(std::string_view data, TableFormat format,
                                               size_t chunk, TableReaderOptions options = {}) {
  TableReader reader(format, std::move(options));
  for (size_t i = 0; i < data.size(); i += chunk) {
    RETURN_IF_ERROR(reader.Feed(data.substr(i, chunk)));
  }
  RETURN_IF_ERROR(reader.Finish());
  return reader.TakeColumns();
}

void ExpectSameColumns(const std::vector<NamedColumn>& a, const std::vector<NamedColumn>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].values.kind, b[i].values.kind) << a[i].name;
    EXPECT_EQ(a[i].values.numbers, b[i].values.numbers) << a[i].name;
    EXPECT_EQ(a[i].values.strings, b[i].values.strings) << a[i].name;
    EXPECT_EQ(a[i].values.missing, b[i].values.missing) << a[i].name;
  }
}

TEST(TableReaderTest, ReadsCsvAndInfersKinds) {
  ASSERT_OK_AND_ASSIGN(auto columns, ReadTable("x,city,code\n1.5,Paris,007\n-2e3,\"Lyon\",12\n"
                                               " 3 ,Nice,abc\n",
                                               TableFormat::kCsv));
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns[0].name, "x");
  EXPECT_EQ(columns[0].values.kind, FeatureKind::kNumeric);
  EXPECT_EQ(columns[0].values.numbers, Nums({1.5, -2000.0, 3.0}));
  EXPECT_EQ(columns[1].values.kind, FeatureKind::kCategorical);
  EXPECT_EQ(columns[1].values.strings, Strs({"Paris", "Lyon", "Nice"}));
  // Numbers seen before the first non-number keep their text once the column is categorical.
  EXPECT_EQ(columns[2].values.kind, FeatureKind::kCategorical);
  EXPECT_EQ(columns[2].values.strings, Strs({"007", "12", "abc"}));
  EXPECT_TRUE(columns[2].values.numbers.empty());
}

TEST(TableReaderTest, CsvQuotingCrlfAndBom) {
  const std::string csv =
      "\xEF\xBB\xBF"
      "name,\"note, with comma\"\r\n"
      "\"a \"\"quoted\"\" word\",\"two\r\nlines\"\r\n"
      "plain,\"\"\r\n";
  ASSERT_OK_AND_ASSIGN(auto columns, ReadTable(csv, TableFormat::kCsv));
  ASSERT_EQ(columns.size(), 2u);
  EXPECT_EQ(columns[0].name, "name");  // the BOM is not part of the first name
  EXPECT_EQ(columns[1].name, "note, with comma");
  EXPECT_EQ(columns[0].values.strings, Strs({"a \"quoted\" word", "plain"}));
  EXPECT_EQ(columns[1].values.strings, Strs({"two\r\nlines"}));
  EXPECT_EQ(columns[1].values.missing, 1);  // "" is missing
}

TEST(TableReaderTest, MissingValueTokens) {
  ASSERT_OK_AND_ASSIGN(auto columns,
                       ReadTable("a,b\n1,x\nNA,NaN\nnan,null\n,N/A\nNULL,None\n-nan,<NA>\n"
                                 "-NaN,#N/A\n2,NA \n3,NAN\n",
                                 TableFormat::kCsv));
  EXPECT_EQ(columns[0].values.kind, FeatureKind::kNumeric);
  EXPECT_EQ(columns[0].values.numbers, Nums({1.0, 2.0, 3.0}));
  EXPECT_EQ(columns[0].values.missing, 6);
  // "NA " (with a space) and "NAN" are not among pandas' tokens: they are text.
  EXPECT_EQ(columns[1].values.kind, FeatureKind::kCategorical);
  EXPECT_EQ(columns[1].values.strings, Strs({"x", "NA ", "NAN"}));
  EXPECT_EQ(columns[1].values.missing, 6);
  // Where the signature declares the column numeric, any NaN spelling is missing.
  TableReaderOptions options;
  options.hints = {{"a", FeatureKind::kNumeric}};
  ASSERT_OK_AND_ASSIGN(columns, ReadTable("a\n1\nNAN\n+nan\n", TableFormat::kCsv, options));
  EXPECT_EQ(columns[0].values.numbers, Nums({1.0}));
  EXPECT_EQ(columns[0].values.missing, 2);
  // As in pandas, an undeclared column with "NAN" is categorical.
  ASSERT_OK_AND_ASSIGN(columns, ReadTable("a\n1\nNAN\n", TableFormat::kCsv));
  EXPECT_EQ(columns[0].values.strings, Strs({"1", "NAN"}));
}

TEST(TableReaderTest, InfinitiesAreNumbers) {
  ASSERT_OK_AND_ASSIGN(auto columns, ReadTable("v\ninf\n-Infinity\n1e400\n", TableFormat::kCsv));
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(columns[0].values.numbers, Nums({inf, -inf, inf}));
}

TEST(TableReaderTest, SkipsBlankLinesAndReadsLastLineWithoutNewline) {
  ASSERT_OK_AND_ASSIGN(auto columns, ReadTable("a,b\n\n1,2\n\n3,4", TableFormat::kCsv));
  EXPECT_EQ(columns[0].values.numbers, Nums({1.0, 3.0}));
  EXPECT_EQ(columns[1].values.numbers, Nums({2.0, 4.0}));
}

TEST(TableReaderTest, UnnamedHeaderAndTrailingEmptyField) {
  ASSERT_OK_AND_ASSIGN(auto columns, ReadTable(",a,b\n0,1,\n1,2,3", TableFormat::kCsv));
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns[0].name, "Unnamed: 0");
  EXPECT_EQ(columns[2].values.missing, 1);
  EXPECT_EQ(columns[2].values.numbers, Nums({3.0}));
}

const char kMixedCsv[] =
    "\xEF\xBB\xBF"
    "id,\"x\",cat,label\r\n"
    "1,0.25,\"a,b\",yes\r\n"
    "2,NA,\"multi\r\nline \"\"q\"\"\",no\r\n"
    "\r\n"
    "3,1e-3,,yes\n"
    "4,  7 ,z,\"\"\n"
    "5,-inf,007,no";

const char kMixedJsonl[] =
    "\xEF\xBB\xBF"
    "{\"id\": 1, \"x\": 0.25, \"cat\": \"a,b\", \"flag\": true}\r\n"
    "\n"
    "{\"id\": 2, \"x\": null, \"cat\": \"caf\\u00e9 \\\"q\\\"\", \"flag\": false}\n"
    "{\"id\": 3, \"x\": NaN, \"cat\": 12, \"extra\": \"new\"}\n"
    "{\"id\": 4, \"x\": -Infinity, \"cat\": \"NA\"}";

TEST(TableReaderTest, ByteByByteFeedingMatchesWholeInput) {
  for (TableFormat format : {TableFormat::kCsv, TableFormat::kJsonLines}) {
    const std::string data = format == TableFormat::kCsv ? kMixedCsv : kMixedJsonl;
    ASSERT_OK_AND_ASSIGN(auto whole, ReadTable(data, format));
    for (size_t chunk : {1, 2, 3, 5, 7, 64}) {
      SCOPED_TRACE("chunk " + std::to_string(chunk));
      ASSERT_OK_AND_ASSIGN(auto chunked, ReadChunked(data, format, chunk));
      ExpectSameColumns(whole, chunked);
    }
  }
}

// Random inputs built from the characters that matter to the parsers: reading them in random
// chunks gives the same columns, or the same error, as reading them whole.
TEST(TableReaderTest, RandomInputsReadTheSameInAnyChunks) {
  const std::vector<std::string> csv_pieces = {",",    "\n",       "\r\n",        "\r", "\"",
                                               "\"\"", "1",        "-2.5e3",      "NA", "x",
                                               " ",    "\xC3\xA9", "\xEF\xBB\xBF"};
  const std::vector<std::string> json_pieces = {"{\"a\":1}",
                                                "{\"b\":\"x\"}",
                                                "{\"a\":null,\"b\":true}",
                                                "{\"a\":NaN}",
                                                "\n",
                                                "\r\n",
                                                "{\"c\":[1]}",
                                                "{",
                                                "}",
                                                "\"",
                                                "1",
                                                " "};
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 3000; ++trial) {
    const bool csv = trial % 2 == 0;
    const auto& pieces = csv ? csv_pieces : json_pieces;
    std::string data = csv ? "a,b\n" : "";
    const size_t n = rng() % 24;
    for (size_t i = 0; i < n; ++i) data += pieces[rng() % pieces.size()];
    const TableFormat format = csv ? TableFormat::kCsv : TableFormat::kJsonLines;
    auto whole = ReadTable(data, format);
    auto chunked = ReadChunked(data, format, 1 + rng() % 5);
    ASSERT_EQ(whole.ok(), chunked.ok()) << data;
    if (whole.ok()) {
      ExpectSameColumns(*whole, *chunked);
    } else {
      EXPECT_EQ(whole.status().message(), chunked.status().message()) << data;
    }
  }
}

TEST(TableReaderTest, ReadsJsonLines) {
  TableReaderOptions options;
  options.exclude = {"id"};
  ASSERT_OK_AND_ASSIGN(auto columns, ReadTable(kMixedJsonl, TableFormat::kJsonLines, options));
  ASSERT_EQ(columns.size(), 4u);
  EXPECT_EQ(Find(columns, "id"), nullptr);
  const NamedColumn* x = Find(columns, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->values.kind, FeatureKind::kNumeric);
  EXPECT_EQ(x->values.numbers, Nums({0.25, -std::numeric_limits<double>::infinity()}));
  EXPECT_EQ(x->values.missing, 2);
  const NamedColumn* cat = Find(columns, "cat");
  EXPECT_EQ(cat->values.kind, FeatureKind::kCategorical);
  EXPECT_EQ(cat->values.strings, Strs({"a,b", "caf\xC3\xA9 \"q\"", "12"}));
  EXPECT_EQ(cat->values.missing, 1);  // "NA"
  const NamedColumn* flag = Find(columns, "flag");
  EXPECT_EQ(flag->values.strings, Strs({"true", "false"}));
  EXPECT_EQ(flag->values.missing, 2);  // absent from two lines
  const NamedColumn* extra = Find(columns, "extra");
  EXPECT_EQ(extra->values.strings, Strs({"new"}));
  EXPECT_EQ(extra->values.missing, 3);  // first seen on the third row
}

TEST(TableReaderTest, CsvAndJsonLinesAgree) {
  ASSERT_OK_AND_ASSIGN(auto csv, ReadTable("a,b\n1,x\n,y\n2.5,\n", TableFormat::kCsv));
  ASSERT_OK_AND_ASSIGN(auto jsonl, ReadTable("{\"a\":1,\"b\":\"x\"}\n{\"a\":null,\"b\":\"y\"}\n"
                                             "{\"a\":2.5}\n",
                                             TableFormat::kJsonLines));
  ExpectSameColumns(csv, jsonl);
}

TEST(TableReaderTest, RepeatedJsonKeyKeepsTheLastValue) {
  ASSERT_OK_AND_ASSIGN(auto columns, ReadTable("{\"a\":1,\"a\":2}\n", TableFormat::kJsonLines));
  EXPECT_EQ(columns[0].values.numbers, Nums({2.0}));
}

TEST(TableReaderTest, NestedJsonValueNamesLineAndKey) {
  Status s = ReadTable("{\"a\":1}\n{\"a\":2,\"b\":[1,2]}\n", TableFormat::kJsonLines).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'b'"), std::string::npos) << s.message();
  // An excluded column may hold anything.
  TableReaderOptions options;
  options.exclude = {"b"};
  EXPECT_OK(ReadTable("{\"a\":2,\"b\":{\"c\":1}}\n", TableFormat::kJsonLines, options));
}

TEST(TableReaderTest, MalformedInputNamesTheLine) {
  struct Case {
    std::string data;
    TableFormat format;
    std::string line;
  };
  const std::vector<Case> cases = {
      {"a,b\n1,2\n3\n", TableFormat::kCsv, "line 3"},
      {"a,b\n1,2\n3,4,5\n", TableFormat::kCsv, "line 3"},
      // The record starts on line 2 and spans line 3.
      {"a,b\n\"x\ny\",2,3\n", TableFormat::kCsv, "line 2"},
      {"a\n\"x\"y\n", TableFormat::kCsv, "line 2"},
      {"a,b\n1,2\n\"open\n", TableFormat::kCsv, "line 3"},
      {"a,a\n1,2\n", TableFormat::kCsv, "line 1"},
      {"{\"a\":1}\n{\"a\":\n", TableFormat::kJsonLines, "line 2"},
      {"{\"a\":1}\n\n[1,2]\n", TableFormat::kJsonLines, "line 3"},
  };
  for (const Case& c : cases) {
    for (size_t chunk : {size_t{1}, c.data.size()}) {
      Status s = ReadChunked(c.data, c.format, chunk).status();
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.data;
      EXPECT_NE(s.message().find(c.line), std::string::npos) << c.data << " -> " << s.message();
    }
  }
  EXPECT_EQ(ReadTable("", TableFormat::kCsv).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadTable("\xEF\xBB\xBF", TableFormat::kCsv).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(TableReaderTest, RejectsInvalidUtf8) {
  Status s = ReadTable("a,b\nok,1\n\xC3\x28,2\n", TableFormat::kCsv).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("UTF-8"), std::string::npos) << s.message();
  s = ReadTable("{\"a\":\"\xFF\"}\n", TableFormat::kJsonLines).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  // An excluded column is not read.
  TableReaderOptions options;
  options.exclude = {"a"};
  EXPECT_OK(ReadTable("a,b\n\xFF,1\n", TableFormat::kCsv, options));
}

TEST(TableReaderTest, ErrorsAreSticky) {
  TableReader reader(TableFormat::kCsv);
  EXPECT_OK(reader.Feed("a,b\n1,2\n"));
  Status first = reader.Feed("1\n");
  EXPECT_FALSE(first.ok());
  EXPECT_EQ(reader.Feed("3,4\n").message(), first.message());
  EXPECT_EQ(reader.Finish().message(), first.message());
  EXPECT_TRUE(reader.TakeColumns().empty());
}

TEST(TableReaderTest, Limits) {
  TableReaderOptions options;
  options.max_columns = 2;
  Status s = ReadTable("a,b,c\n1,2,3\n", TableFormat::kCsv, options).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 1"), std::string::npos) << s.message();
  s = ReadTable("{\"a\":1}\n{\"b\":1,\"c\":2}\n", TableFormat::kJsonLines, options).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();

  options = {};
  options.max_rows = 2;
  EXPECT_OK(ReadTable("a\n1\n2\n", TableFormat::kCsv, options));
  s = ReadTable("a\n1\n2\n3\n", TableFormat::kCsv, options).status();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("line 4"), std::string::npos) << s.message();
  s = ReadTable("{}\n{}\n{}\n", TableFormat::kJsonLines, options).status();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);

  options = {};
  options.max_line_bytes = 16;
  const std::string long_field(40, 'x');
  for (size_t chunk : {size_t{1}, size_t{1000}}) {
    s = ReadChunked("a\nshort\n\"" + long_field + "\"\n", TableFormat::kCsv, chunk, options)
            .status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("line 3"), std::string::npos) << s.message();
    s = ReadChunked("{}\n{\"a\":\"" + long_field + "\"}\n", TableFormat::kJsonLines, chunk, options)
            .status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
  }
}

TEST(TableReaderTest, HintsOverrideInference) {
  TableReaderOptions options;
  options.hints = {{"zip", FeatureKind::kCategorical}, {"age", FeatureKind::kNumeric}};
  ASSERT_OK_AND_ASSIGN(auto columns,
                       ReadTable("zip,age\n01234,30\n75001,NA\n", TableFormat::kCsv, options));
  EXPECT_EQ(columns[0].values.kind, FeatureKind::kCategorical);
  EXPECT_EQ(columns[0].values.strings, Strs({"01234", "75001"}));
  EXPECT_EQ(columns[1].values.kind, FeatureKind::kNumeric);
  EXPECT_EQ(columns[1].values.missing, 1);

  Status s = ReadTable("zip,age\n1,30\n2,old\n", TableFormat::kCsv, options).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'age'"), std::string::npos) << s.message();
  s = ReadTable("{\"age\":true}\n", TableFormat::kJsonLines, options).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(TableReaderTest, EmptyColumnIsNumeric) {
  ASSERT_OK_AND_ASSIGN(auto columns, ReadTable("a,b\n,1\nNA,2\n", TableFormat::kCsv));
  EXPECT_EQ(columns[0].values.kind, FeatureKind::kNumeric);
  EXPECT_EQ(columns[0].values.missing, 2);
  EXPECT_EQ(columns[0].values.size(), 0u);
}

TEST(TableReaderTest, KindHintsFromSignature) {
  runtime::ModelSignature signature;
  const std::vector<std::pair<std::string, std::string>> specs = {
      {"d", "double"},  {"f", "float"},  {"l", "long"},     {"i", "integer"}, {"s", "string"},
      {"b", "boolean"}, {"y", "binary"}, {"t", "datetime"}, {"u", "unknown"},
  };
  for (const auto& [name, type] : specs) {
    signature.inputs.push_back(runtime::TensorSpec{.name = name});
    signature.input_column_types.push_back(type);
  }
  KindHints hints = KindHintsFromSignature(signature);
  EXPECT_EQ(hints.size(), 8u);
  for (std::string_view name : {"d", "f", "l", "i"}) {
    EXPECT_EQ(hints.at(std::string(name)), FeatureKind::kNumeric) << name;
  }
  for (std::string_view name : {"s", "b", "y", "t"}) {
    EXPECT_EQ(hints.at(std::string(name)), FeatureKind::kCategorical) << name;
  }
  signature.tensor_based = true;
  EXPECT_TRUE(KindHintsFromSignature(signature).empty());
}

TEST(TableReaderTest, ProgressCounters) {
  TableReader reader(TableFormat::kCsv);
  EXPECT_OK(reader.Feed("a\n1\n2"));
  EXPECT_EQ(reader.bytes_consumed(), 5);
  EXPECT_EQ(reader.rows_read(), 1);
  EXPECT_OK(reader.Finish());
  EXPECT_EQ(reader.rows_read(), 2);
  EXPECT_EQ(reader.Finish().code(), StatusCode::kFailedPrecondition);
}

TEST(TableReaderTest, FormatFromName) {
  EXPECT_EQ(TableFormatFromName("CSV"), TableFormat::kCsv);
  EXPECT_EQ(TableFormatFromName("ndjson"), TableFormat::kJsonLines);
  EXPECT_EQ(TableFormatFromName("parquet"), std::nullopt);
}

}  // namespace
}  // namespace cairn::monitor
