#pragma once

// Shared by tracking_store_conformance_test.cc and tracking_store_search_conformance_test.cc:
// helpers and the fixture.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <thread>

#include "base/ids.h"
#include "filter/filter.h"
#include "metadata/metadata_store_test_backends.h"
#include "metadata/tracking_store.h"

namespace cairn::metadata {

using filter::Clause;
using filter::Comparator;
using filter::Entity;

using testing_util::Backend;
using testing_util::BackendName;

constexpr std::string_view kTenant = "acme";
constexpr std::string_view kOtherTenant = "globex";
constexpr std::string_view kRoot = "file:///artifacts";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

inline Metric M(std::string key, double value, int64_t timestamp, int64_t step = 0) {
  Metric m;
  m.key = std::move(key);
  m.value = value;
  m.timestamp = timestamp;
  m.step = step;
  return m;
}

inline Clause C(Entity entity, std::string key, Comparator op, filter::Value value = {}) {
  Clause c;
  c.entity = entity;
  c.key = std::move(key);
  c.op = op;
  c.value = std::move(value);
  return c;
}

inline filter::Filter F(std::vector<Clause> clauses) {
  filter::Filter f;
  f.clauses = std::move(clauses);
  return f;
}

inline const Metric* FindMetric(const std::vector<Metric>& metrics, std::string_view key) {
  for (const Metric& m : metrics) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

inline std::optional<std::string> FindTag(const std::vector<Tag>& tags, std::string_view key) {
  for (const Tag& t : tags) {
    if (t.key == key) return t.value;
  }
  return std::nullopt;
}

inline std::optional<std::string> FindParam(const std::vector<Param>& params,
                                            std::string_view key) {
  for (const Param& p : params) {
    if (p.key == key) return p.value;
  }
  return std::nullopt;
}

class TrackingStoreConformanceTest : public testing_util::StoreConformanceTest {
 protected:
  void SetUp() override {
    StoreConformanceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_OK(store().EnsureDefaultExperiment(kTenant, kRoot, 1000));
  }

  TrackingStore& store() { return tracking(); }

  std::string NewExperiment(const std::string& name, int64_t now = 2000,
                            std::string_view tenant = kTenant, std::vector<Tag> tags = {}) {
    auto id = store().CreateExperiment(tenant, name, "", kRoot, tags, now);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  RunInfo NewRunInfo(const std::string& experiment_id, int64_t start_time,
                     const std::string& name = "", const std::string& user = "alice") {
    RunInfo info;
    info.run_id = ids_.Hex32();
    info.experiment_id = experiment_id;
    info.run_name = name;
    info.user_id = user;
    info.start_time = start_time;
    info.artifact_uri = std::string(kRoot) + "/" + experiment_id + "/" + info.run_id;
    return info;
  }

  std::string NewRun(const std::string& experiment_id, int64_t start_time = 5000,
                     const std::string& name = "", const std::string& user = "alice",
                     std::string_view tenant = kTenant) {
    auto run = store().CreateRun(tenant, NewRunInfo(experiment_id, start_time, name, user), {});
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? run->info.run_id : "";
  }

  metadata::Run MustGetRun(const std::string& run_id, std::string_view tenant = kTenant) {
    auto run = store().GetRun(tenant, run_id);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : metadata::Run{};
  }

  std::vector<Metric> History(const std::string& run_id, const std::string& key) {
    auto page = store().GetMetricHistory(kTenant, run_id, key, Page{100000, 0});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->items : std::vector<Metric>{};
  }

  IdGenerator ids_{42};
};

}  // namespace cairn::metadata
