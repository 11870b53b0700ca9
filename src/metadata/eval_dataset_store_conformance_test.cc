// The EvalDatasetStore conformance suite: every backend must pass it (backends in
// metadata_store_test_backends.h).

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "metadata/eval_dataset_rules.h"
#include "metadata/eval_dataset_store.h"
#include "metadata/metadata_store_test_backends.h"

namespace cairn::metadata {
namespace {

using testing_util::BackendName;

#define EXPECT_STATUS(expr, expected) \
  EXPECT_EQ(::cairn::testing_status::ToStatus(expr).code(), expected) << #expr

EvalDataset Dataset(std::string id, std::string name, int64_t at) {
  EvalDataset d;
  d.id = std::move(id);
  d.name = std::move(name);
  d.digest = eval_datasets::DatasetDigest(d.name, at);
  d.created_time_ms = at;
  d.last_update_time_ms = at;
  return d;
}

EvalRecordUpsert Upsert(std::string id, std::string inputs) {
  EvalRecordUpsert u;
  u.new_record_id = std::move(id);
  u.inputs = inputs;
  u.input_hash = eval_datasets::InputHash(boost::json::parse(inputs));
  return u;
}

std::vector<std::string> Ids(const std::vector<EvalDataset>& ds) {
  std::vector<std::string> out;
  for (const EvalDataset& d : ds) out.push_back(d.id);
  return out;
}

filter::Filter Parse(std::string_view text) {
  auto f = filter::ParseFilter(text, filter::SearchKind::kEvaluationDatasets);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : filter::Filter{};
}

class EvalDatasetStoreConformanceTest : public testing_util::StoreConformanceTest {};

TEST_P(EvalDatasetStoreConformanceTest, CreateThenGetReturnsEveryFieldAndSurvivesReopen) {
  EvalDataset d = Dataset("d-1", "qa", 100);
  d.tags = {{"b", "2"}, {"a", "1"}};
  d.created_by = "alice";
  d.last_updated_by = "alice";
  ASSERT_OK(eval_datasets().CreateDataset("t1", d, {"7", "3"}));
  Reopen();
  auto got = eval_datasets().GetDataset("t1", "d-1");
  ASSERT_OK(got);
  EXPECT_EQ(got->name, "qa");
  EXPECT_EQ(got->tags, (std::vector<Tag>{{"b", "2"}, {"a", "1"}}));  // in the order set
  EXPECT_EQ(got->digest, d.digest);
  EXPECT_EQ(got->created_by, "alice");
  EXPECT_FALSE(got->schema.has_value());
  EXPECT_FALSE(got->profile.has_value());
  auto experiments = eval_datasets().GetExperimentIds("t1", "d-1");
  ASSERT_OK(experiments);
  EXPECT_EQ(*experiments, (std::vector<std::string>{"7", "3"}));  // in link order
}

TEST_P(EvalDatasetStoreConformanceTest, OtherTenantsDatasetsAreInvisible) {
  ASSERT_OK(eval_datasets().CreateDataset("t1", Dataset("d-1", "qa", 100), {"1"}));
  auto missing = eval_datasets().GetDataset("t2", "d-1");
  EXPECT_STATUS(missing, StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Evaluation dataset with id 'd-1' not found");
  EXPECT_STATUS(eval_datasets().SetDatasetTags("t2", "d-1", {{"k", "v"}}), StatusCode::kNotFound);
  EXPECT_STATUS(eval_datasets().UpsertRecords("t2", "d-1", {Upsert("dr-1", R"({"q":1})")}, 5),
                StatusCode::kNotFound);
  EXPECT_STATUS(eval_datasets().GetRecords("t2", "d-1", 10, std::nullopt), StatusCode::kNotFound);
  EXPECT_STATUS(eval_datasets().AddExperiments("t2", "d-1", {"2"}, 5), StatusCode::kNotFound);
  auto deleted = eval_datasets().DeleteDataset("t2", "d-1");
  ASSERT_OK(deleted);
  EXPECT_FALSE(*deleted);
  auto found = eval_datasets().SearchDatasets("t2", {});
  ASSERT_OK(found);
  EXPECT_TRUE(found->items.empty());
  auto experiments = eval_datasets().GetExperimentIds("t2", "d-1");
  ASSERT_OK(experiments);
  EXPECT_TRUE(experiments->empty());
  EXPECT_OK(eval_datasets().GetDataset("t1", "d-1"));
  EXPECT_STATUS(eval_datasets().CreateDataset("t2", Dataset("d-1", "x", 1), {}),
                StatusCode::kAlreadyExists);
}

TEST_P(EvalDatasetStoreConformanceTest, UpsertInsertsThenMergesRecordsWithTheSameInputs) {
  ASSERT_OK(eval_datasets().CreateDataset("t1", Dataset("d-1", "qa", 100), {}));
  EvalRecordUpsert first = Upsert("dr-1", R"({"q": "hi", "n": 1})");
  first.has_outputs = true;
  first.outputs = R"("hello")";
  first.expectations = R"({"answer": "hello"})";
  first.tags = R"({"mlflow.user": "bob"})";
  first.user = "bob";
  auto result = eval_datasets().UpsertRecords("t1", "d-1", {first}, 200);
  ASSERT_OK(result);
  EXPECT_EQ(result->inserted, 1);
  EXPECT_EQ(result->updated, 0);

  // Same inputs in another key order: merged, not inserted.
  EvalRecordUpsert second = Upsert("dr-2", R"({"n": 1, "q": "hi"})");
  second.expectations = R"({"score": 3})";
  result = eval_datasets().UpsertRecords("t1", "d-1", {second, Upsert("dr-3", R"({"q": 2})")}, 300);
  ASSERT_OK(result);
  EXPECT_EQ(result->inserted, 1);
  EXPECT_EQ(result->updated, 1);

  auto records = eval_datasets().GetRecords("t1", "d-1", 10, std::nullopt);
  ASSERT_OK(records);
  ASSERT_EQ(records->items.size(), 2u);
  const EvalDatasetRecord& merged = records->items[0];
  EXPECT_EQ(merged.id, "dr-1");
  EXPECT_EQ(merged.outputs, R"("hello")");  // kept: the second upsert gave none
  EXPECT_EQ(merged.expectations, R"({"answer": "hello", "score": 3})");
  EXPECT_EQ(merged.created_time_ms, 200);
  EXPECT_EQ(merged.last_update_time_ms, 300);
  EXPECT_EQ(merged.created_by, "bob");
  EXPECT_EQ(records->items[1].id, "dr-3");
  EXPECT_EQ(records->items[1].outputs, "{}");  // MLflow stores {} for a record without outputs

  auto d = eval_datasets().GetDataset("t1", "d-1");
  ASSERT_OK(d);
  EXPECT_EQ(d->profile, R"({"num_records": 2})");
  EXPECT_EQ(d->last_update_time_ms, 300);
  EXPECT_EQ(d->digest, eval_datasets::DatasetDigest("qa", 300));
  EXPECT_FALSE(d->last_updated_by.has_value());  // the last upsert had no user
  EXPECT_EQ(d->schema,
            R"({"inputs": {"q": "string", "n": "integer"}, "outputs": "string", )"
            R"("expectations": {"answer": "string", "score": "integer"}, "version": "1.0"})");
}

TEST_P(EvalDatasetStoreConformanceTest, RecordsPageByCreatedTimeThenId) {
  ASSERT_OK(eval_datasets().CreateDataset("t1", Dataset("d-1", "qa", 100), {}));
  ASSERT_OK(eval_datasets().UpsertRecords(
      "t1", "d-1", {Upsert("dr-b", R"({"i": 1})"), Upsert("dr-a", R"({"i": 2})")}, 200));
  ASSERT_OK(eval_datasets().UpsertRecords("t1", "d-1", {Upsert("dr-0", R"({"i": 3})")}, 300));
  auto page = eval_datasets().GetRecords("t1", "d-1", 2, std::nullopt);
  ASSERT_OK(page);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].id, "dr-a");
  EXPECT_EQ(page->items[1].id, "dr-b");
  EXPECT_TRUE(page->has_more);
  page = eval_datasets().GetRecords("t1", "d-1", 2, EvalDatasetStore::RecordCursor{200, "dr-b"});
  ASSERT_OK(page);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, "dr-0");
  EXPECT_FALSE(page->has_more);
}

TEST_P(EvalDatasetStoreConformanceTest, DeleteRecordsLowersTheProfileCount) {
  ASSERT_OK(eval_datasets().CreateDataset("t1", Dataset("d-1", "qa", 100), {}));
  ASSERT_OK(eval_datasets().UpsertRecords(
      "t1", "d-1", {Upsert("dr-1", R"({"i": 1})"), Upsert("dr-2", R"({"i": 2})")}, 200));
  auto deleted = eval_datasets().DeleteRecords("t1", "d-1", {"dr-1", "dr-missing"});
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(eval_datasets().GetDataset("t1", "d-1")->profile, R"({"num_records": 1})");
  deleted = eval_datasets().DeleteRecords("t1", "d-1", {"dr-2"});
  ASSERT_OK(deleted);
  EXPECT_EQ(eval_datasets().GetDataset("t1", "d-1")->profile, "null");
  deleted = eval_datasets().DeleteRecords("t1", "d-1", {"dr-2"});
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, 0);
}

TEST_P(EvalDatasetStoreConformanceTest, TagsAreSetMergedAndDeleted) {
  EvalDataset d = Dataset("d-1", "qa", 100);
  d.tags = {{"a", "1"}};
  ASSERT_OK(eval_datasets().CreateDataset("t1", d, {}));
  ASSERT_OK(eval_datasets().SetDatasetTags("t1", "d-1", {{"c", "0"}, {"a", "2"}, {"b", "3"}}));
  // A changed tag keeps its place; new ones follow in the order set.
  EXPECT_EQ(eval_datasets().GetDataset("t1", "d-1")->tags,
            (std::vector<Tag>{{"a", "2"}, {"c", "0"}, {"b", "3"}}));
  ASSERT_OK(eval_datasets().DeleteDatasetTag("t1", "d-1", "a"));
  ASSERT_OK(eval_datasets().DeleteDatasetTag("t1", "d-1", "never"));
  ASSERT_OK(eval_datasets().DeleteDatasetTag("t1", "d-missing", "a"));
  EXPECT_EQ(eval_datasets().GetDataset("t1", "d-1")->tags,
            (std::vector<Tag>{{"c", "0"}, {"b", "3"}}));
  auto missing = eval_datasets().SetDatasetTags("t1", "d-2", {{"a", "1"}});
  EXPECT_STATUS(missing, StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "Could not find evaluation dataset with ID d-2");
}

TEST_P(EvalDatasetStoreConformanceTest, ExperimentsAreLinkedOnceAndUnlinked) {
  ASSERT_OK(eval_datasets().CreateDataset("t1", Dataset("d-1", "qa", 100), {"1"}));
  auto added = eval_datasets().AddExperiments("t1", "d-1", {"1", "2"}, 500);
  ASSERT_OK(added);
  EXPECT_EQ(added->last_update_time_ms, 500);
  EXPECT_EQ(*eval_datasets().GetExperimentIds("t1", "d-1"), (std::vector<std::string>{"1", "2"}));
  auto removed = eval_datasets().RemoveExperiments("t1", "d-1", {"1", "9"}, 600);
  ASSERT_OK(removed);
  EXPECT_EQ(removed->last_update_time_ms, 600);
  removed = eval_datasets().RemoveExperiments("t1", "d-1", {"9"}, 700);
  ASSERT_OK(removed);
  EXPECT_EQ(removed->last_update_time_ms, 600);  // nothing unlinked: unchanged
  EXPECT_EQ(*eval_datasets().GetExperimentIds("t1", "d-1"), (std::vector<std::string>{"2"}));
  auto missing = eval_datasets().AddExperiments("t1", "d-2", {"1"}, 1);
  EXPECT_STATUS(missing, StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Dataset 'd-2' not found");
}

TEST_P(EvalDatasetStoreConformanceTest, DeleteRemovesRecordsTagsAndLinks) {
  EvalDataset d = Dataset("d-1", "qa", 100);
  d.tags = {{"a", "1"}};
  ASSERT_OK(eval_datasets().CreateDataset("t1", d, {"1"}));
  ASSERT_OK(eval_datasets().UpsertRecords("t1", "d-1", {Upsert("dr-1", R"({"i": 1})")}, 200));
  auto deleted = eval_datasets().DeleteDataset("t1", "d-1");
  ASSERT_OK(deleted);
  EXPECT_TRUE(*deleted);
  EXPECT_STATUS(eval_datasets().GetDataset("t1", "d-1"), StatusCode::kNotFound);
  EXPECT_TRUE(eval_datasets().GetExperimentIds("t1", "d-1")->empty());
  // The id and the record's inputs are free again.
  ASSERT_OK(eval_datasets().CreateDataset("t1", Dataset("d-1", "qa", 300), {}));
  auto result = eval_datasets().UpsertRecords("t1", "d-1", {Upsert("dr-1", R"({"i": 1})")}, 400);
  ASSERT_OK(result);
  EXPECT_EQ(result->inserted, 1);
}

TEST_P(EvalDatasetStoreConformanceTest, SearchFiltersOrdersAndPages) {
  EvalDataset a = Dataset("d-a", "alpha", 100);
  a.tags = {{"team", "x"}};
  a.created_by = "ann";
  ASSERT_OK(eval_datasets().CreateDataset("t1", a, {"1"}));
  ASSERT_OK(eval_datasets().CreateDataset("t1", Dataset("d-b", "beta", 200), {"2"}));
  ASSERT_OK(eval_datasets().CreateDataset("t1", Dataset("d-c", "gamma", 200), {"1", "2"}));
  ASSERT_OK(eval_datasets().CreateDataset("t2", Dataset("d-z", "alpha", 300), {"1"}));

  auto search = [&](SearchEvalDatasetsQuery q) {
    auto page = eval_datasets().SearchDatasets("t1", q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? Ids(page->items) : std::vector<std::string>{};
  };
  // Default order: created_time DESC, then dataset_id DESC.
  EXPECT_EQ(search({}), (std::vector<std::string>{"d-c", "d-b", "d-a"}));
  EXPECT_EQ(search({.experiment_ids = {"1"}}), (std::vector<std::string>{"d-c", "d-a"}));
  EXPECT_EQ(search({.filter = Parse("name LIKE '%a'")}),
            (std::vector<std::string>{"d-c", "d-b", "d-a"}));
  EXPECT_EQ(search({.filter = Parse("name IN ('alpha', 'beta')")}),
            (std::vector<std::string>{"d-b", "d-a"}));
  EXPECT_EQ(search({.filter = Parse("tags.team = 'x'")}), (std::vector<std::string>{"d-a"}));
  EXPECT_EQ(search({.filter = Parse("created_by = 'ann'")}), (std::vector<std::string>{"d-a"}));
  EXPECT_EQ(search({.filter = Parse("created_time > 150")}),
            (std::vector<std::string>{"d-c", "d-b"}));
  auto by_name = filter::ParseOrderBy("name ASC", filter::SearchKind::kEvaluationDatasets);
  ASSERT_OK(by_name);
  EXPECT_EQ(search({.order_by = {*by_name}}), (std::vector<std::string>{"d-a", "d-b", "d-c"}));

  auto page = eval_datasets().SearchDatasets("t1", {.max_results = 2});
  ASSERT_OK(page);
  EXPECT_EQ(Ids(page->items), (std::vector<std::string>{"d-c", "d-b"}));
  EXPECT_TRUE(page->has_more);
  page = eval_datasets().SearchDatasets("t1", {.max_results = 2, .offset = 2});
  ASSERT_OK(page);
  EXPECT_EQ(Ids(page->items), (std::vector<std::string>{"d-a"}));
  EXPECT_FALSE(page->has_more);
}

TEST(EvalDatasetRulesTest, PythonJsonDumpsWritesWhatPythonWrites) {
  auto dumps = [](std::string_view text) {
    return eval_datasets::PythonJsonDumps(boost::json::parse(text));
  };
  EXPECT_EQ(dumps(R"({"a":[1,2.5,true,null],"b":{"c":"d"}})"),
            R"({"a": [1, 2.5, true, null], "b": {"c": "d"}})");
  EXPECT_EQ(dumps("[1.0, 1e16, 1e15, 0.0001, 0.00001, 123.456]"),
            "[1.0, 1e+16, 1000000000000000.0, 0.0001, 1e-05, 123.456]");
  EXPECT_EQ(dumps(R"(["é\n\u0001😀"])"), R"(["\u00e9\n\u0001\ud83d\ude00"])");
  EXPECT_EQ(eval_datasets::PythonJsonDumps(boost::json::parse(R"({"b":1,"a":{"d":1,"c":2}})"),
                                           /*sort_keys=*/true),
            R"({"a": {"c": 2, "d": 1}, "b": 1})");
}

TEST(EvalDatasetRulesTest, DigestIsTheFirstEightHexDigitsOfSha256) {
  // hashlib.sha256(b"qa:100").hexdigest()[:8]
  EXPECT_EQ(eval_datasets::DatasetDigest("qa", 100), "2f722e2c");
  EXPECT_NE(eval_datasets::DatasetDigest("qa", 100), eval_datasets::DatasetDigest("qa", 101));
}

INSTANTIATE_TEST_SUITE_P(Backends, EvalDatasetStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
