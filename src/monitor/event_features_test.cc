#include "monitor/event_features.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/status_testing.h"

namespace cairn::monitor {
namespace {

using runtime::DataType;
using runtime::ModelInterface;
using runtime::ModelSignature;
using runtime::TensorSpec;

stream::PredictionEvent Event(std::string protocol, std::string inputs, std::string outputs = "") {
  stream::PredictionEvent e;
  e.protocol = std::move(protocol);
  e.status_code = 200;
  e.inputs_json = std::move(inputs);
  e.outputs_json = std::move(outputs);
  return e;
}

// A model with one 2-D FP32 input X of three columns (an ONNX-style tensor model).
ModelSchema TensorModel() {
  ModelSchema s;
  s.interface.platform = "onnx_onnxv1";
  s.interface.inputs = {TensorSpec{.name = "X", .type = DataType::kFp32, .shape = {-1, 3}}};
  return s;
}

// A pyfunc model with a column-based signature: a double and a string column.
ModelSchema TableModel() {
  ModelSchema s;
  s.interface.platform = "mlflow_pyfunc";
  ModelSignature sig;
  sig.inputs = {TensorSpec{.name = "a", .type = DataType::kFp64, .shape = {-1}},
                TensorSpec{.name = "b", .type = DataType::kBytes, .shape = {-1}}};
  sig.input_column_types = {"double", "string"};
  s.signature = sig;
  return s;
}

std::vector<double> Numbers(const std::vector<Cell>& cells) {
  std::vector<double> out;
  for (const Cell& c : cells) {
    EXPECT_EQ(c.type, Cell::Type::kNumber);
    out.push_back(c.number);
  }
  return out;
}

std::vector<std::string> Keys(const std::vector<Cell>& cells) {
  std::vector<std::string> out;
  for (const Cell& c : cells) out.push_back(CellKey(c));
  return out;
}

TEST(ExtractRowsTest, V2TwoDimensionalTensorGivesOneFeaturePerColumn) {
  ASSERT_OK_AND_ASSIGN(EventRows rows,
                       ExtractRows(Event("v2",
                                         R"({"inputs":[{"name":"X","shape":[2,3],"datatype":"FP32",
                            "data":[[1,2,3],[4,5,6.5]]}]})",
                                         R"({"model_name":"m","outputs":[
                            {"name":"label","shape":[2],"datatype":"INT64","data":[0,1]},
                            {"name":"probabilities","shape":[2,2],"datatype":"FP32",
                             "data":[0.75,0.25,0.5,0.5]}]})"),
                                   TensorModel()));
  EXPECT_EQ(rows.rows, 2u);
  EXPECT_EQ(rows.names, (std::vector<std::string>{"X[0]", "X[1]", "X[2]"}));
  ASSERT_EQ(rows.columns.size(), 3u);
  EXPECT_EQ(Numbers(rows.columns[0]), (std::vector<double>{1, 4}));
  EXPECT_EQ(Numbers(rows.columns[2]), (std::vector<double>{3, 6.5}));
  EXPECT_EQ(Keys(rows.predictions), (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(rows.scores.size(), 2u);
  EXPECT_EQ(rows.scores[0], 0.25);  // the second class's probability
  EXPECT_EQ(rows.scores[1], 0.5);
}

TEST(ExtractRowsTest, V2OneDimensionalTensorIsOneFeature) {
  ModelSchema schema;  // a model that declares no inputs: nothing is checked
  ASSERT_OK_AND_ASSIGN(
      EventRows rows,
      ExtractRows(Event("v2", R"({"inputs":[{"name":"x","shape":[3],"datatype":"FP64",
                                               "data":[1.5,2.5,3.5]}]})"),
                  schema));
  EXPECT_EQ(rows.rows, 3u);
  EXPECT_EQ(rows.names, (std::vector<std::string>{"x"}));
  EXPECT_EQ(Numbers(rows.columns[0]), (std::vector<double>{1.5, 2.5, 3.5}));
  EXPECT_TRUE(rows.predictions.empty());  // no outputs logged
}

TEST(ExtractRowsTest, V2SeveralInputsAndProbabilitiesWithoutLabel) {
  ModelSchema schema;
  ASSERT_OK_AND_ASSIGN(
      EventRows rows,
      ExtractRows(Event("v2",
                        R"({"inputs":[
                            {"name":"age","shape":[2,1],"datatype":"INT64","data":[30,40]},
                            {"name":"city","shape":[2],"datatype":"BYTES","data":["Oslo","Rome"]},
                            {"name":"ok","shape":[2],"datatype":"BOOL","data":[true,false]}]})",
                        R"({"outputs":[{"name":"probabilities","shape":[2,3],"datatype":"FP32",
                            "data":[0.1,0.7,0.2, 0.5,0.2,0.3]}]})"),
                  schema));
  EXPECT_EQ(rows.rows, 2u);
  // A [n, 1] tensor is one column, named as the input.
  EXPECT_EQ(rows.names, (std::vector<std::string>{"age", "city", "ok"}));
  EXPECT_EQ(Numbers(rows.columns[0]), (std::vector<double>{30, 40}));
  EXPECT_EQ(rows.columns[1][0].type, Cell::Type::kString);
  EXPECT_EQ(Keys(rows.columns[1]), (std::vector<std::string>{"Oslo", "Rome"}));
  EXPECT_EQ(Numbers(rows.columns[2]), (std::vector<double>{1, 0}));
  // Without a label output the prediction is the most probable class's index; three classes
  // give no positive-class score.
  EXPECT_EQ(Keys(rows.predictions), (std::vector<std::string>{"1", "0"}));
  EXPECT_EQ(rows.scores, (std::vector<std::optional<double>>{std::nullopt, std::nullopt}));
}

TEST(ExtractRowsTest, V2InputsWithDifferentRowCountsAreRejected) {
  ModelSchema schema;
  StatusOr<EventRows> rows =
      ExtractRows(Event("v2", R"({"inputs":[{"name":"a","shape":[2],"datatype":"FP32","data":[1,2]},
                                {"name":"b","shape":[3],"datatype":"FP32","data":[1,2,3]}]})"),
                  schema);
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
}

TEST(ExtractRowsTest, MlflowDataframeSplitWithSignature) {
  ASSERT_OK_AND_ASSIGN(EventRows rows,
                       ExtractRows(Event("invocations",
                                         R"({"dataframe_split":{"columns":["b","a","extra"],
                            "data":[["x",1.5,0],["y",2,0]]}})",
                                         R"({"predictions": [0, 1]})"),
                                   TableModel()));
  EXPECT_EQ(rows.rows, 2u);
  // Signature order; columns the signature does not name are dropped.
  EXPECT_EQ(rows.names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Numbers(rows.columns[0]), (std::vector<double>{1.5, 2}));
  EXPECT_EQ(Keys(rows.columns[1]), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(Keys(rows.predictions), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(rows.scores, (std::vector<std::optional<double>>{std::nullopt, std::nullopt}));
}

TEST(ExtractRowsTest, MlflowRecordsWithRecordOutputs) {
  ASSERT_OK_AND_ASSIGN(
      EventRows rows,
      ExtractRows(
          Event("invocations", R"({"dataframe_records":[{"a":1,"b":"x"},{"a":2.5,"b":"z"}]})",
                R"({"predictions": [{"score": 0.9, "label": "cat"},
                                            {"score": 0.2, "label": "dog"}]})"),
          TableModel()));
  EXPECT_EQ(rows.names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Numbers(rows.columns[0]), (std::vector<double>{1, 2.5}));
  // The column named like a label wins over the first one-wide column.
  EXPECT_EQ(Keys(rows.predictions), (std::vector<std::string>{"cat", "dog"}));
}

TEST(ExtractRowsTest, MlflowInstancesWithDictOutputs) {
  ModelSchema schema;  // no signature, no declared inputs: one tensor named "input"
  ASSERT_OK_AND_ASSIGN(
      EventRows rows,
      ExtractRows(Event("invocations", R"({"instances": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]})",
                        R"({"predictions": {"probabilities": [[0.9, 0.1], [0.4, 0.6], [0.5, 0.5]],
                                            "label": [0, 1, 0]}})"),
                  schema));
  EXPECT_EQ(rows.rows, 3u);
  EXPECT_EQ(rows.names, (std::vector<std::string>{"input[0]", "input[1]"}));
  EXPECT_EQ(Numbers(rows.columns[1]), (std::vector<double>{2, 4, 6}));
  EXPECT_EQ(Keys(rows.predictions), (std::vector<std::string>{"0", "1", "0"}));
  EXPECT_EQ(rows.scores, (std::vector<std::optional<double>>{std::optional(0.1), std::optional(0.6),
                                                             std::optional(0.5)}));
}

TEST(ExtractRowsTest, MlflowPredictionListShapes) {
  ModelSchema schema;
  // A flat list: one prediction per row.
  ASSERT_OK_AND_ASSIGN(EventRows rows,
                       ExtractRows(Event("invocations", R"({"instances": [[1], [2]]})",
                                         R"({"predictions": ["spam", "ham"]})"),
                                   schema));
  EXPECT_EQ(Keys(rows.predictions), (std::vector<std::string>{"spam", "ham"}));
  // Rows of two probabilities: the argmax, and the second as the score.
  ASSERT_OK_AND_ASSIGN(rows, ExtractRows(Event("invocations", R"({"instances": [[1], [2]]})",
                                               R"({"predictions": [[0.2, 0.8], [0.7, 0.3]]})"),
                                         schema));
  EXPECT_EQ(Keys(rows.predictions), (std::vector<std::string>{"1", "0"}));
  EXPECT_EQ(rows.scores,
            (std::vector<std::optional<double>>{std::optional(0.8), std::optional(0.3)}));
  // A list whose length is not the row count is not used.
  ASSERT_OK_AND_ASSIGN(rows, ExtractRows(Event("invocations", R"({"instances": [[1], [2]]})",
                                               R"({"predictions": [1, 2, 3]})"),
                                         schema));
  EXPECT_TRUE(rows.predictions.empty());
  // Unreadable outputs leave the predictions empty but the rows readable.
  ASSERT_OK_AND_ASSIGN(rows, ExtractRows(Event("invocations", R"({"instances": [[1], [2]]})",
                                               R"({"predictions": [0,)"),
                                         schema));
  EXPECT_EQ(rows.rows, 2u);
  EXPECT_TRUE(rows.predictions.empty());
}

TEST(ExtractRowsTest, CsvBodyLoggedAsJsonString) {
  ASSERT_OK_AND_ASSIGN(EventRows rows,
                       ExtractRows(Event("invocations", R"("a,b\n1.5,x\n2.5,\"y, z\"\n")",
                                         R"({"predictions":[1,0]})"),
                                   TableModel()));
  EXPECT_EQ(rows.rows, 2u);
  EXPECT_EQ(rows.names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Numbers(rows.columns[0]), (std::vector<double>{1.5, 2.5}));
  EXPECT_EQ(Keys(rows.columns[1]), (std::vector<std::string>{"x", "y, z"}));
  EXPECT_EQ(Keys(rows.predictions), (std::vector<std::string>{"1", "0"}));
}

TEST(ExtractRowsTest, NanInputsAreMissingCells) {
  ASSERT_OK_AND_ASSIGN(EventRows rows,
                       ExtractRows(Event("invocations", R"({"dataframe_split":{"columns":["a","b"],
                                              "data":[[null,"x"],["nan","y"]]}})"),
                                   TableModel()));
  EXPECT_EQ(rows.columns[0][0].type, Cell::Type::kMissing);
  EXPECT_EQ(rows.columns[0][1].type, Cell::Type::kMissing);
}

TEST(ExtractRowsTest, UnreadableBodiesAreInvalidArgument) {
  const std::vector<stream::PredictionEvent> bad = {
      Event("v2", ""),
      Event("v2", R"({"inputs":[{"name":"X","shape":[1,3],"datatype":"FP32","data":[1,2)"),
      Event("v2", R"({"inputs":[{"name":"X","shape":[1,2],"datatype":"FP32","data":[1,2]}]})"),
      Event("invocations", R"({"dataframe_split":{"columns":["a"],"data":[[1]]}})"),
      Event("invocations", R"({"dataframe_records":[{"a":"not a number","b":"x"}]})"),
      Event("invocations", R"({"dataframe_split": {"columns": ["a", "b"], "data": [[1, )"),
      Event("invocations", R"("a,b\n1.5)"),  // a truncated JSON string
      Event("invocations", R"(12)"),
  };
  for (const stream::PredictionEvent& e : bad) {
    StatusOr<EventRows> rows = ExtractRows(e, e.protocol == "v2" ? TensorModel() : TableModel());
    EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument) << e.inputs_json;
  }
}

TEST(CellKeyTest, NormalisesNumbersAndKeepsText) {
  auto number = [](double v) { return Cell{.type = Cell::Type::kNumber, .number = v}; };
  EXPECT_EQ(CellKey(number(1.0)), "1");
  EXPECT_EQ(CellKey(number(-3)), "-3");
  EXPECT_EQ(CellKey(number(0.0)), "0");
  EXPECT_EQ(CellKey(number(-0.0)), "0");
  EXPECT_EQ(CellKey(number(1.5)), "1.5");
  EXPECT_EQ(CellKey(number(0.1)), "0.1");
  EXPECT_EQ(CellKey(number(1e300)), CellKey(ParseLabel("1e300")));
  EXPECT_EQ(CellKey(Cell{.type = Cell::Type::kString, .text = "1.0"}), "1.0");
  EXPECT_EQ(CellKey(Cell{}), "");
}

TEST(ParseLabelTest, ReadsScalarsOnly) {
  EXPECT_EQ(ParseLabel("1").type, Cell::Type::kNumber);
  EXPECT_EQ(CellKey(ParseLabel("1")), "1");
  EXPECT_EQ(CellKey(ParseLabel("1.0")), "1");
  EXPECT_EQ(CellKey(ParseLabel("2.25")), "2.25");
  EXPECT_EQ(CellKey(ParseLabel("-7")), "-7");
  EXPECT_EQ(CellKey(ParseLabel("18446744073709551615")),
            CellKey(ParseLabel("1.8446744073709552e19")));
  Cell text = ParseLabel(R"("spam")");
  EXPECT_EQ(text.type, Cell::Type::kString);
  EXPECT_EQ(text.text, "spam");
  Cell yes = ParseLabel("true");
  EXPECT_EQ(yes.type, Cell::Type::kString);
  EXPECT_EQ(CellKey(yes), "true");
  EXPECT_EQ(CellKey(ParseLabel("false")), "false");
  for (const char* missing : {"null", "[1]", "{\"a\":1}", "", "garbage", "1 2"}) {
    EXPECT_EQ(ParseLabel(missing).type, Cell::Type::kMissing) << missing;
  }
}

}  // namespace
}  // namespace cairn::monitor
