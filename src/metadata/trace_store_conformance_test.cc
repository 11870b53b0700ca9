// The TraceStore conformance suite: every backend must pass it (backends in
// metadata_store_test_backends.h). Traces belong to experiments of the tracking domain, so the
// suite creates those through the same backend's TrackingStore.

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "filter/filter.h"
#include "metadata/metadata_store_test_backends.h"
#include "metadata/trace_store.h"
#include "metadata/tracking_store.h"

namespace cairn::metadata {
namespace {

using testing_util::BackendName;

constexpr std::string_view kTenant = "acme";
constexpr std::string_view kOtherTenant = "globex";
constexpr std::string_view kRoot = "file:///artifacts";

class TraceStoreConformanceTest : public testing_util::StoreConformanceTest {
 protected:
  std::string NewExperiment(const std::string& name, int64_t now = 2000,
                            std::string_view tenant = kTenant) {
    auto id = tracking().CreateExperiment(tenant, name, "", kRoot, {}, now);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
};

TraceInfo T(std::string id, std::string experiment_id, int64_t time_ms,
            TraceState state = TraceState::kOk) {
  TraceInfo t;
  t.trace_id = std::move(id);
  t.experiment_id = std::move(experiment_id);
  t.request_time_ms = time_ms;
  t.execution_duration_ms = time_ms % 100;
  t.state = state;
  return t;
}

std::vector<std::string> TraceIds(const ResultPage<TraceInfo>& page) {
  std::vector<std::string> ids;
  for (const TraceInfo& t : page.items) ids.push_back(t.trace_id);
  return ids;
}

TEST_P(TraceStoreConformanceTest, StartTraceStoresAndMergesTraceInfo) {
  std::string exp = NewExperiment("traces");
  TraceInfo t = T("tr-1", exp, 1000);
  t.client_request_id = "req";
  t.request_preview = "in";
  t.response_preview = "out";
  t.tags = {{"mlflow.traceName", "f"}};
  t.trace_metadata = {{"mlflow.sourceRun", "r1"}};
  ASSERT_OK_AND_ASSIGN(TraceInfo stored, traces().StartTrace(kTenant, t));
  EXPECT_EQ(stored.trace_id, "tr-1");
  EXPECT_EQ(stored.experiment_id, exp);
  EXPECT_EQ(stored.request_time_ms, 1000);
  EXPECT_EQ(stored.execution_duration_ms, 0);
  EXPECT_EQ(stored.client_request_id, "req");
  EXPECT_EQ(stored.request_preview, "in");
  EXPECT_EQ(stored.response_preview, "out");
  EXPECT_EQ(stored.tags,
            (std::vector<Tag>{{"mlflow.artifactLocation",
                               std::string(kRoot) + "/" + exp + "/traces/tr-1/artifacts"},
                              {"mlflow.traceName", "f"}}));
  EXPECT_EQ(stored.trace_metadata, (std::vector<Tag>{{"mlflow.sourceRun", "r1"}}));

  // Again for the same id: fields replaced, tags and metadata merged, the location kept.
  TraceInfo again = T("tr-1", exp, 2000, TraceState::kError);
  again.tags = {{"mlflow.traceName", "g"}, {"extra", "1"}};
  ASSERT_OK_AND_ASSIGN(stored, traces().StartTrace(kTenant, again));
  EXPECT_EQ(stored.state, TraceState::kError);
  EXPECT_EQ(stored.request_time_ms, 2000);
  EXPECT_FALSE(stored.client_request_id.has_value());
  EXPECT_EQ(stored.tags.size(), 3u);
  EXPECT_EQ(stored.trace_metadata.size(), 1u);
  ASSERT_OK_AND_ASSIGN(TraceInfo got, traces().GetTraceInfo(kTenant, "tr-1"));
  EXPECT_EQ(got.tags, stored.tags);

  // A location the client chose is kept.
  TraceInfo placed = T("tr-2", exp, 1);
  placed.tags = {{"mlflow.artifactLocation", "s3://b/x"}};
  ASSERT_OK_AND_ASSIGN(stored, traces().StartTrace(kTenant, placed));
  EXPECT_EQ(stored.tags, placed.tags);
}

TEST_P(TraceStoreConformanceTest, TracesNeedAnActiveExperimentOfTheTenant) {
  std::string exp = NewExperiment("traces-exp");
  EXPECT_EQ(traces().StartTrace(kTenant, T("tr-x", "12345", 1)).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(traces().StartTrace(kOtherTenant, T("tr-x", exp, 1)).status().code(),
            StatusCode::kNotFound);
  ASSERT_OK(tracking().DeleteExperiment(kTenant, exp, 3000));
  EXPECT_EQ(traces().StartTrace(kTenant, T("tr-x", exp, 1)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(traces().GetTraceInfo(kTenant, "tr-x").status().code(), StatusCode::kNotFound);

  // Trace ids are per tenant: the same id in another tenant is another trace.
  std::string mine = NewExperiment("mine");
  std::string theirs = NewExperiment("theirs", 2000, kOtherTenant);
  ASSERT_OK(traces().StartTrace(kTenant, T("tr-same", mine, 1)).status());
  ASSERT_OK(traces().StartTrace(kOtherTenant, T("tr-same", theirs, 2)).status());
  ASSERT_OK_AND_ASSIGN(TraceInfo a, traces().GetTraceInfo(kTenant, "tr-same"));
  ASSERT_OK_AND_ASSIGN(TraceInfo b, traces().GetTraceInfo(kOtherTenant, "tr-same"));
  EXPECT_EQ(a.request_time_ms, 1);
  EXPECT_EQ(b.request_time_ms, 2);
  EXPECT_EQ(traces().SetTraceTag(kOtherTenant, "tr-missing", {"k", "v"}).code(),
            StatusCode::kNotFound);
  SearchTracesQuery q;
  q.experiment_ids = {mine};
  ASSERT_OK_AND_ASSIGN(auto other_view, traces().SearchTraces(kOtherTenant, q));
  EXPECT_TRUE(other_view.items.empty());
}

TEST_P(TraceStoreConformanceTest, SearchTracesFiltersOrdersAndPages) {
  std::string exp = NewExperiment("trace-search");
  std::string other = NewExperiment("trace-other");
  for (int i = 0; i < 6; ++i) {
    TraceInfo t = T("tr-" + std::to_string(i), exp, 1000 + i * 10,
                    i % 3 == 0 ? TraceState::kError : TraceState::kOk);
    t.execution_duration_ms = 60 - i * 5;
    t.tags = {{"mlflow.traceName", i < 2 ? "predict" : "train"}};
    if (i == 4) t.trace_metadata = {{"mlflow.sourceRun", "run-4"}};
    ASSERT_OK(traces().StartTrace(kTenant, t).status());
  }
  ASSERT_OK(traces().StartTrace(kTenant, T("tr-other", other, 5000)).status());

  SearchTracesQuery q;
  q.experiment_ids = {exp};
  ASSERT_OK_AND_ASSIGN(auto all, traces().SearchTraces(kTenant, q));
  EXPECT_EQ(TraceIds(all),
            (std::vector<std::string>{"tr-5", "tr-4", "tr-3", "tr-2", "tr-1", "tr-0"}));
  auto search = [&](std::string_view filter_text, std::vector<std::string> order = {}) {
    SearchTracesQuery query;
    query.experiment_ids = {exp, other};
    auto parsed = filter::ParseFilter(filter_text, filter::SearchKind::kTraces);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    if (parsed.ok()) query.filter = *parsed;
    for (const std::string& o : order) {
      auto ob = filter::ParseOrderBy(o, filter::SearchKind::kTraces);
      EXPECT_TRUE(ob.ok()) << ob.status().ToString();
      if (ob.ok()) query.order_by.push_back(*ob);
    }
    auto page = traces().SearchTraces(kTenant, query);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? TraceIds(*page) : std::vector<std::string>{};
  };
  using Ids = std::vector<std::string>;
  EXPECT_EQ(search("trace.status = 'ERROR'"), (Ids{"tr-3", "tr-0"}));
  EXPECT_EQ(search("trace.status IN ('ERROR')", {"timestamp_ms ASC"}), (Ids{"tr-0", "tr-3"}));
  EXPECT_EQ(search("trace.name = 'predict'"), (Ids{"tr-1", "tr-0"}));
  EXPECT_EQ(search("trace.run_id = 'run-4'"), (Ids{"tr-4"}));
  EXPECT_EQ(search("metadata.`mlflow.sourceRun` IS NOT NULL"), (Ids{"tr-4"}));
  EXPECT_EQ(search("trace.timestamp_ms >= 1030 AND trace.timestamp_ms < 2000"),
            (Ids{"tr-5", "tr-4", "tr-3"}));
  EXPECT_EQ(search("trace.execution_time_ms > 50"), (Ids{"tr-1", "tr-0"}));
  // end = time + duration: 1060, 1065, ..., 1085, and 5000 for tr-other.
  EXPECT_EQ(search("trace.end_time_ms <= 1065", {"end_time_ms DESC"}), (Ids{"tr-1", "tr-0"}));
  EXPECT_EQ(search("trace.request_id = 'tr-2'"), (Ids{"tr-2"}));
  EXPECT_EQ(search("", {"execution_time_ms DESC"}).front(), "tr-0");
  EXPECT_EQ(search("", {"name DESC", "timestamp_ms"}).front(), "tr-2");
  EXPECT_EQ(search("tags.`mlflow.traceName` LIKE 'tr%'").size(), 4u);

  q.page = Page{4, 0};
  ASSERT_OK_AND_ASSIGN(auto p1, traces().SearchTraces(kTenant, q));
  EXPECT_TRUE(p1.has_more);
  q.page = Page{4, 4};
  ASSERT_OK_AND_ASSIGN(auto p2, traces().SearchTraces(kTenant, q));
  EXPECT_FALSE(p2.has_more);
  EXPECT_EQ(TraceIds(p2), (Ids{"tr-1", "tr-0"}));
  q.experiment_ids = {"bogus", "99999"};
  ASSERT_OK_AND_ASSIGN(auto none, traces().SearchTraces(kTenant, q));
  EXPECT_TRUE(none.items.empty());
}

TEST_P(TraceStoreConformanceTest, TraceTagsAndDeletion) {
  std::string exp = NewExperiment("trace-delete");
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(traces().StartTrace(kTenant, T("tr-" + std::to_string(i), exp, 100 + i)).status());
  }
  ASSERT_OK(traces().SetTraceTag(kTenant, "tr-0", {"k", "v"}));
  ASSERT_OK(traces().SetTraceTag(kTenant, "tr-0", {"k", "w"}));
  ASSERT_OK_AND_ASSIGN(TraceInfo t0, traces().GetTraceInfo(kTenant, "tr-0"));
  EXPECT_EQ(t0.tags.front(), (Tag{"k", "w"}));
  ASSERT_OK(traces().DeleteTraceTag(kTenant, "tr-0", "k"));
  EXPECT_EQ(traces().DeleteTraceTag(kTenant, "tr-0", "k").code(), StatusCode::kNotFound);
  EXPECT_EQ(traces().SetTraceTag(kTenant, "tr-9", {"k", "v"}).code(), StatusCode::kNotFound);

  DeleteTracesRequest by_ids;
  by_ids.experiment_id = exp;
  by_ids.trace_ids = {"tr-4", "tr-nope"};
  ASSERT_OK_AND_ASSIGN(int64_t n, traces().DeleteTraces(kTenant, by_ids));
  EXPECT_EQ(n, 1);
  by_ids.experiment_id = NewExperiment("elsewhere");
  by_ids.trace_ids = {"tr-3"};
  ASSERT_OK_AND_ASSIGN(n, traces().DeleteTraces(kTenant, by_ids));
  EXPECT_EQ(n, 0);  // tr-3 belongs to another experiment

  DeleteTracesRequest oldest;
  oldest.experiment_id = exp;
  oldest.max_timestamp_ms = 103;
  oldest.max_traces = 2;
  ASSERT_OK_AND_ASSIGN(n, traces().DeleteTraces(kTenant, oldest));
  EXPECT_EQ(n, 2);
  SearchTracesQuery q;
  q.experiment_ids = {exp};
  ASSERT_OK_AND_ASSIGN(auto left, traces().SearchTraces(kTenant, q));
  EXPECT_EQ(TraceIds(left), (std::vector<std::string>{"tr-3", "tr-2"}));
  oldest.max_traces.reset();
  ASSERT_OK_AND_ASSIGN(n, traces().DeleteTraces(kTenant, oldest));
  EXPECT_EQ(n, 2);
  EXPECT_EQ(traces().GetTraceInfo(kTenant, "tr-0").status().code(), StatusCode::kNotFound);
}

Span S(std::string trace_id, std::string span_id, std::optional<std::string> parent,
       int64_t start_ms, std::optional<int64_t> end_ms, std::string status = "OK") {
  Span s;
  s.trace_id = std::move(trace_id);
  s.span_id = std::move(span_id);
  s.parent_span_id = std::move(parent);
  s.name = "span-" + s.span_id;
  s.type = "CHAIN";
  s.status = std::move(status);
  s.start_time_ns = start_ms * 1000000 + 7;
  if (end_ms) s.end_time_ns = *end_ms * 1000000 + 9;
  s.content = R"({"span_id":")" + s.span_id + R"("})";
  return s;
}

std::vector<std::string> SpanIds(const std::vector<Span>& spans) {
  std::vector<std::string> ids;
  for (const Span& s : spans) ids.push_back(s.trace_id + "/" + s.span_id);
  return ids;
}

std::optional<std::string> TagValue(const TraceInfo& info, std::string_view key) {
  for (const Tag& t : info.tags) {
    if (t.key == key) return t.value;
  }
  return std::nullopt;
}

TEST_P(TraceStoreConformanceTest, LogSpansCreatesTheTraceAndKeepsTheSpans) {
  std::string exp = NewExperiment("spans");
  SpanBatch batch;
  batch.experiment_id = exp;
  batch.spans = {S("tr-a", "c1", "r", 1200, 1300),
                 S("tr-a", "r", std::nullopt, 1000, 1500, "ERROR"),
                 S("tr-b", "c2", "x", 5000, std::nullopt)};
  batch.previews = {{"tr-a", "in", "out"}};
  batch.tags = {{"tr-a", {"service.name", "svc"}},
                {"tr-a", {"team", "a"}},
                {"tr-a", {"team", "b"}},
                {"tr-elsewhere", {"x", "y"}}};
  ASSERT_OK(traces().LogSpans(kTenant, batch));
  EXPECT_EQ(traces().GetTraceInfo(kTenant, "tr-elsewhere").status().code(), StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(TraceInfo a, traces().GetTraceInfo(kTenant, "tr-a"));
  EXPECT_EQ(a.experiment_id, exp);
  EXPECT_EQ(a.request_time_ms, 1000);
  EXPECT_EQ(a.execution_duration_ms, 500);
  EXPECT_EQ(a.state, TraceState::kError);
  EXPECT_EQ(a.request_preview, "in");
  EXPECT_EQ(a.response_preview, "out");
  EXPECT_EQ(TagValue(a, "mlflow.trace.spansLocation"), "TRACKING_STORE");
  EXPECT_EQ(TagValue(a, "service.name"), "svc");
  EXPECT_EQ(TagValue(a, "team"), "b");
  EXPECT_EQ(TagValue(a, "mlflow.artifactLocation"),
            std::string(kRoot) + "/" + exp + "/traces/tr-a/artifacts");
  // No root span and no end yet: in progress, no duration.
  ASSERT_OK_AND_ASSIGN(TraceInfo b, traces().GetTraceInfo(kTenant, "tr-b"));
  EXPECT_EQ(b.state, TraceState::kInProgress);
  EXPECT_EQ(b.execution_duration_ms, std::nullopt);

  // Root first, then by start time; traces in the order asked for.
  ASSERT_OK_AND_ASSIGN(std::vector<Span> spans,
                       traces().GetSpans(kTenant, {"tr-b", "tr-a", "tr-nope"}));
  EXPECT_EQ(SpanIds(spans), (std::vector<std::string>{"tr-b/c2", "tr-a/r", "tr-a/c1"}));
  const Span& root = spans[1];
  EXPECT_EQ(root.experiment_id, exp);
  EXPECT_EQ(root.parent_span_id, std::nullopt);
  EXPECT_EQ(root.name, "span-r");
  EXPECT_EQ(root.type, "CHAIN");
  EXPECT_EQ(root.status, "ERROR");
  EXPECT_EQ(root.start_time_ns, 1000000007);
  EXPECT_EQ(root.end_time_ns, 1500000009);
  EXPECT_EQ(root.content, R"({"span_id":"r"})");
  EXPECT_EQ(spans[2].parent_span_id, "r");
  EXPECT_EQ(spans[0].end_time_ns, std::nullopt);

  // Other tenants see nothing.
  ASSERT_OK_AND_ASSIGN(std::vector<Span> other, traces().GetSpans(kOtherTenant, {"tr-a"}));
  EXPECT_TRUE(other.empty());
  EXPECT_EQ(traces().GetTraceInfo(kOtherTenant, "tr-a").status().code(), StatusCode::kNotFound);
}

TEST_P(TraceStoreConformanceTest, LogSpansUpsertsAndWidensAnUnfinalizedTrace) {
  std::string exp = NewExperiment("spans-upsert");
  SpanBatch batch;
  batch.experiment_id = exp;
  batch.spans = {S("tr-u", "c1", "r", 2000, std::nullopt)};
  ASSERT_OK(traces().LogSpans(kTenant, batch));
  // The same span again (now ended), an earlier sibling and the root.
  Span ended = S("tr-u", "c1", "r", 2000, 2600);
  ended.content = R"({"v":2})";
  batch.spans = {ended, S("tr-u", "r", std::nullopt, 1500, 3000)};
  batch.previews = {{"tr-u", "req", std::nullopt}};
  ASSERT_OK(traces().LogSpans(kTenant, batch));
  ASSERT_OK_AND_ASSIGN(TraceInfo u, traces().GetTraceInfo(kTenant, "tr-u"));
  EXPECT_EQ(u.request_time_ms, 1500);
  EXPECT_EQ(u.execution_duration_ms, 1500);
  EXPECT_EQ(u.state, TraceState::kOk);
  EXPECT_EQ(u.request_preview, "req");
  EXPECT_EQ(u.response_preview, std::nullopt);
  ASSERT_OK_AND_ASSIGN(std::vector<Span> spans, traces().GetSpans(kTenant, {"tr-u"}));
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[1].content, R"({"v":2})");
  EXPECT_EQ(spans[1].end_time_ns, 2600000009);

  // Spans of a stored trace go to its experiment, whatever the batch says; a later preview does
  // not replace the one the trace has.
  batch.experiment_id = NewExperiment("spans-elsewhere");
  batch.spans = {S("tr-u", "c3", "r", 2100, 2200)};
  batch.previews = {{"tr-u", "other", "resp"}};
  ASSERT_OK(traces().LogSpans(kTenant, batch));
  ASSERT_OK_AND_ASSIGN(u, traces().GetTraceInfo(kTenant, "tr-u"));
  EXPECT_EQ(u.experiment_id, exp);
  EXPECT_EQ(u.request_preview, "req");
  EXPECT_EQ(u.response_preview, "resp");
  ASSERT_OK_AND_ASSIGN(spans, traces().GetSpans(kTenant, {"tr-u"}));
  EXPECT_EQ(spans.back().experiment_id, exp);
}

TEST_P(TraceStoreConformanceTest, LogSpansLeavesAFinalizedTraceInfoAlone) {
  std::string exp = NewExperiment("spans-finalized");
  TraceInfo t = T("tr-f", exp, 1000, TraceState::kOk);
  t.execution_duration_ms = 10;
  t.trace_metadata = {{"mlflow.trace.infoFinalized", "true"}};
  ASSERT_OK(traces().StartTrace(kTenant, t).status());
  SpanBatch batch;
  batch.experiment_id = exp;
  batch.spans = {S("tr-f", "r", std::nullopt, 500, 5000, "ERROR")};
  ASSERT_OK(traces().LogSpans(kTenant, batch));
  ASSERT_OK_AND_ASSIGN(TraceInfo f, traces().GetTraceInfo(kTenant, "tr-f"));
  EXPECT_EQ(f.request_time_ms, 1000);
  EXPECT_EQ(f.execution_duration_ms, 10);
  EXPECT_EQ(f.state, TraceState::kOk);
  EXPECT_EQ(TagValue(f, "mlflow.trace.spansLocation"), "TRACKING_STORE");

  // StartTrace after LogSpans keeps the spans' tag and the spans.
  ASSERT_OK_AND_ASSIGN(f, traces().StartTrace(kTenant, t));
  EXPECT_EQ(TagValue(f, "mlflow.trace.spansLocation"), "TRACKING_STORE");
}

TEST_P(TraceStoreConformanceTest, LogSpansNeedsTheExperimentAndIsAllOrNothing) {
  SpanBatch batch;
  batch.experiment_id = "987654";
  batch.spans = {S("tr-x", "r", std::nullopt, 1, 2)};
  EXPECT_EQ(traces().LogSpans(kTenant, batch).code(), StatusCode::kNotFound);
  EXPECT_EQ(traces().GetTraceInfo(kTenant, "tr-x").status().code(), StatusCode::kNotFound);
  // An experiment of another tenant is not found either.
  batch.experiment_id = NewExperiment("theirs", 2000, kOtherTenant);
  EXPECT_EQ(traces().LogSpans(kTenant, batch).code(), StatusCode::kNotFound);
  ASSERT_OK(traces().LogSpans(kTenant, SpanBatch{}));
}

TEST_P(TraceStoreConformanceTest, SearchTracesFiltersBySpans) {
  std::string exp = NewExperiment("span-search");
  SpanBatch batch;
  batch.experiment_id = exp;
  Span llm = S("tr-s1", "r", std::nullopt, 100, 200);
  llm.type = "LLM";
  llm.content = R"({"attributes":{"model":"\"gpt-x\""},"text":"espresso"})";
  Span tool = S("tr-s2", "r", std::nullopt, 300, 400, "ERROR");
  tool.name = "lookup";
  tool.type = "TOOL";
  batch.spans = {llm, tool};
  ASSERT_OK(traces().LogSpans(kTenant, batch));
  auto ids = [&](std::string_view text) -> std::vector<std::string> {
    SearchTracesQuery q;
    q.experiment_ids = {exp};
    auto parsed = filter::ParseFilter(text, filter::SearchKind::kTraces);
    EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
    if (!parsed.ok()) return {};
    q.filter = *parsed;
    auto page = traces().SearchTraces(kTenant, q);
    EXPECT_TRUE(page.ok()) << text << ": " << page.status().ToString();
    return page.ok() ? TraceIds(*page) : std::vector<std::string>{};
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("span.name = 'lookup'"), V{"tr-s2"});
  EXPECT_EQ(ids("span.type IN ('LLM', 'TOOL')"), (V{"tr-s2", "tr-s1"}));
  EXPECT_EQ(ids("span.status = 'ERROR'"), V{"tr-s2"});
  EXPECT_EQ(ids("span.content LIKE '%espresso%'"), V{"tr-s1"});
  EXPECT_EQ(ids("trace.text LIKE '%espresso%'"), V{"tr-s1"});
  EXPECT_EQ(ids("span.attributes.model LIKE '%gpt%'"), V{"tr-s1"});
  EXPECT_EQ(ids("span.type = 'LLM' AND span.status = 'ERROR'"), V{});
  // Span clauses must hold for one span, not for any span each.
  Span child = S("tr-s1", "c", "r", 120, 130, "ERROR");
  child.type = "TOOL";
  batch.spans = {child};
  ASSERT_OK(traces().LogSpans(kTenant, batch));
  EXPECT_EQ(ids("span.type = 'LLM' AND span.status = 'ERROR'"), V{});
  EXPECT_EQ(ids("span.type = 'TOOL' AND span.status = 'ERROR'"), (V{"tr-s2", "tr-s1"}));
  EXPECT_EQ(ids("span.type = 'LLM' AND span.status = 'OK' AND span.name = 'span-r'"), V{"tr-s1"});
}

TEST_P(TraceStoreConformanceTest, DeletingTracesDeletesTheirSpans) {
  std::string exp = NewExperiment("spans-delete");
  SpanBatch batch;
  batch.experiment_id = exp;
  batch.spans = {S("tr-d1", "r", std::nullopt, 100, 200), S("tr-d2", "r", std::nullopt, 300, 400)};
  ASSERT_OK(traces().LogSpans(kTenant, batch));
  DeleteTracesRequest request;
  request.experiment_id = exp;
  request.trace_ids = {"tr-d1"};
  ASSERT_OK_AND_ASSIGN(int64_t n, traces().DeleteTraces(kTenant, request));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(std::vector<Span> spans, traces().GetSpans(kTenant, {"tr-d1", "tr-d2"}));
  EXPECT_EQ(SpanIds(spans), (std::vector<std::string>{"tr-d2/r"}));
  // Logging spans again recreates the trace.
  batch.spans = {S("tr-d1", "r", std::nullopt, 100, 200)};
  ASSERT_OK(traces().LogSpans(kTenant, batch));
  ASSERT_OK(traces().GetTraceInfo(kTenant, "tr-d1").status());
}

TEST_P(TraceStoreConformanceTest, ImportTraceInfoKeepsItAsGivenInAnyExperimentState) {
  std::string exp = NewExperiment("old");
  ASSERT_OK(tracking().DeleteExperiment(kTenant, exp, 3000));
  TraceInfo t = T("tr-imported", exp, 1234);
  t.tags = {{"mlflow.artifactLocation", "mlflow-artifacts:/1/traces/tr-imported/artifacts"}};
  t.trace_metadata = {{"mlflow.sourceRun", "r"}};
  ASSERT_OK(traces().ImportTraceInfo(kTenant, t));
  ASSERT_OK_AND_ASSIGN(TraceInfo got, traces().GetTraceInfo(kTenant, "tr-imported"));
  EXPECT_EQ(got.request_time_ms, 1234);
  EXPECT_EQ(got.tags, t.tags);
  EXPECT_EQ(got.trace_metadata, t.trace_metadata);
  EXPECT_EQ(traces().ImportTraceInfo(kTenant, t).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(traces().ImportTraceInfo(kTenant, T("tr-x", "4242", 1)).code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, TraceStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
