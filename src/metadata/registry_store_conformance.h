#pragma once

// Shared by registry_store_conformance_test.cc and registry_store_search_conformance_test.cc:
// helpers and the fixture.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "filter/filter.h"
#include "metadata/metadata_store_test_backends.h"
#include "metadata/registry_store.h"

namespace cairn::metadata {

using filter::Clause;
using filter::Comparator;
using filter::Entity;
using testing_util::Backend;
using testing_util::BackendName;

constexpr std::string_view kTenant = "acme";
constexpr std::string_view kOtherTenant = "globex";
constexpr std::string_view kPromptTag = "mlflow.prompt.is_prompt";

inline Clause C(Entity entity, std::string key, Comparator op, filter::Value value = {}) {
  Clause c;
  c.entity = entity;
  c.key = std::move(key);
  c.op = op;
  c.value = std::move(value);
  return c;
}

inline Clause Attr(std::string key, Comparator op, filter::Value value) {
  return C(Entity::kAttribute, std::move(key), op, std::move(value));
}

inline Clause TagClause(std::string key, Comparator op, std::string value) {
  return C(Entity::kTag, std::move(key), op, std::move(value));
}

inline filter::Filter F(std::vector<Clause> clauses) {
  filter::Filter f;
  f.clauses = std::move(clauses);
  return f;
}

inline std::optional<std::string> FindTag(const std::vector<Tag>& tags, std::string_view key) {
  for (const Tag& t : tags) {
    if (t.key == key) return t.value;
  }
  return std::nullopt;
}

inline std::vector<std::string> Names(const std::vector<RegisteredModel>& models) {
  std::vector<std::string> names;
  for (const RegisteredModel& m : models) names.push_back(m.name);
  return names;
}

// "name/version" of each version, in order.
inline std::vector<std::string> Ids(const std::vector<ModelVersion>& versions) {
  std::vector<std::string> ids;
  for (const ModelVersion& v : versions) ids.push_back(v.name + "/" + std::to_string(v.version));
  return ids;
}

inline std::vector<int64_t> Numbers(const std::vector<ModelVersion>& versions) {
  std::vector<int64_t> numbers;
  for (const ModelVersion& v : versions) numbers.push_back(v.version);
  return numbers;
}

inline std::vector<ModelStage> Stages(const std::vector<ModelVersion>& versions) {
  std::vector<ModelStage> stages;
  for (const ModelVersion& v : versions) stages.push_back(v.current_stage);
  return stages;
}

inline std::vector<std::string> Targets(const std::vector<PromotionRecord>& records) {
  std::vector<std::string> targets;
  for (const PromotionRecord& r : records) {
    targets.push_back(std::to_string(r.version) + "->" + r.target);
  }
  return targets;
}

class RegistryStoreConformanceTest : public testing_util::StoreConformanceTest {
 protected:
  RegistryStore& store() { return registry(); }

  // A strictly increasing clock.
  int64_t Now() { return now_ += 10; }

  void NewModel(const std::string& name, std::string_view tenant = kTenant,
                std::vector<Tag> tags = {}) {
    auto model = store().CreateRegisteredModel(tenant, name, "", tags, "alice", Now());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
  }

  CreateModelVersionRequest Request(const std::string& name, const std::string& run_id = "",
                                    std::vector<Tag> tags = {}) {
    CreateModelVersionRequest request;
    request.name = name;
    request.source = "mlflow-artifacts:/1/" + (run_id.empty() ? "none" : run_id) + "/model";
    request.storage_location = "file:///store/" + name;
    request.run_id = run_id;
    request.user_id = "bob";
    request.tags = std::move(tags);
    return request;
  }

  int64_t NewVersion(const std::string& name, std::string_view tenant = kTenant,
                     const std::string& run_id = "", std::vector<Tag> tags = {}) {
    auto version =
        store().CreateModelVersion(tenant, Request(name, run_id, std::move(tags)), Now());
    EXPECT_TRUE(version.ok()) << version.status().ToString();
    return version.ok() ? version->version : -1;
  }

  void Transition(const std::string& name, int64_t version, ModelStage stage,
                  bool archive = false) {
    auto moved = store().TransitionModelVersionStage(kTenant, name, version, stage, archive, Now());
    ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  }

  ModelVersion MustGetVersion(const std::string& name, int64_t version,
                              std::string_view tenant = kTenant) {
    auto v = store().GetModelVersion(tenant, name, version);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : ModelVersion{};
  }

  RegisteredModel MustGetModel(const std::string& name, std::string_view tenant = kTenant) {
    auto m = store().GetRegisteredModel(tenant, name);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : RegisteredModel{};
  }

  ModelStage StageOf(const std::string& name, int64_t version) {
    return MustGetVersion(name, version).current_stage;
  }

  std::vector<RegisteredModel> SearchModels(filter::Filter f,
                                            std::vector<filter::OrderBy> order = {},
                                            std::string_view tenant = kTenant) {
    SearchRegisteredModelsQuery query;
    query.filter = std::move(f);
    query.order_by = std::move(order);
    query.page.max_results = 1000;
    auto page = store().SearchRegisteredModels(tenant, query);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return {};
    EXPECT_FALSE(page->has_more);
    return page->items;
  }

  std::vector<ModelVersion> SearchVersions(filter::Filter f,
                                           std::vector<filter::OrderBy> order = {},
                                           std::string_view tenant = kTenant) {
    SearchModelVersionsQuery query;
    query.filter = std::move(f);
    query.order_by = std::move(order);
    auto page = store().SearchModelVersions(tenant, query);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return {};
    EXPECT_FALSE(page->has_more);
    return page->items;
  }

  std::vector<PromotionRecord> Promotions(const std::string& name,
                                          std::optional<int64_t> version = std::nullopt) {
    auto records = store().ListPromotions(kTenant, name, version);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    return records.ok() ? *records : std::vector<PromotionRecord>{};
  }

  int64_t now_ = 1'000'000;
};

inline void ExpectStatus(const Status& status, StatusCode code, std::string_view message) {
  EXPECT_EQ(status.code(), code) << status.ToString();
  EXPECT_EQ(status.message(), message);
}

}  // namespace cairn::metadata
