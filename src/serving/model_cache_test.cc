#include "serving/model_cache.h"

#include <gtest/gtest.h>

namespace cairn::serving {
namespace {

class FakeModel final : public runtime::LoadedModel {
 public:
  const runtime::ModelInterface& Interface() const override { return interface_; }
  void Predict(runtime::PredictRequest, runtime::PredictCallback done) override {
    done(runtime::PredictResponse{});
  }
  int64_t MemoryBytes() const override { return 100; }

 private:
  runtime::ModelInterface interface_;
};

ModelKey Key(const std::string& version, int instance = 0) {
  return ModelKey{.tenant = "t",
                  .model_name = "m",
                  .version = version,
                  .runtime = "python",
                  .options = "",
                  .instance = instance};
}

ModelCache::Loader Counting(int& loads) {
  return [&loads]() -> StatusOr<std::shared_ptr<runtime::LoadedModel>> {
    ++loads;
    return std::shared_ptr<runtime::LoadedModel>(std::make_shared<FakeModel>());
  };
}

TEST(ModelCacheTest, SharesOneInstancePerKey) {
  ModelCache cache(1 << 20);
  int loads = 0;
  auto a = cache.GetOrLoad(Key("1"), Counting(loads));
  auto b = cache.GetOrLoad(Key("1"), Counting(loads));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(cache.GetStats().hits, 1);
}

TEST(ModelCacheTest, ReleaseIdleKeepsInstancesStillReferenced) {
  ModelCache cache(1 << 20);
  int loads = 0;
  auto loaded = cache.GetOrLoad(Key("1"), Counting(loads));
  ASSERT_TRUE(loaded.ok());
  std::shared_ptr<runtime::LoadedModel> held = *std::move(loaded);
  cache.ReleaseIdle("t", "m", "1");
  EXPECT_EQ(cache.GetStats().loaded, 1);  // a reference is out: not idle
  held.reset();
  ASSERT_TRUE(cache.GetOrLoad(Key("1"), Counting(loads)).ok());
  EXPECT_EQ(loads, 1);
}

TEST(ModelCacheTest, ReleaseDropsTheEntryEvenWhileReferenced) {
  ModelCache cache(1 << 20);
  int loads = 0;
  auto loaded = cache.GetOrLoad(Key("1"), Counting(loads));
  ASSERT_TRUE(cache.GetOrLoad(Key("2"), Counting(loads)).ok());
  ASSERT_TRUE(loaded.ok());
  std::shared_ptr<runtime::LoadedModel> held = *std::move(loaded);
  std::weak_ptr<runtime::LoadedModel> watch = held;

  cache.Release(held);
  ModelCache::Stats stats = cache.GetStats();
  EXPECT_EQ(stats.loaded, 1);
  EXPECT_EQ(stats.bytes, 100);
  EXPECT_EQ(stats.evictions, 1);
  EXPECT_FALSE(watch.expired());  // the request holding it finishes first
  held.reset();
  EXPECT_TRUE(watch.expired());  // then it unloads

  cache.Release(nullptr);
  auto again = cache.GetOrLoad(Key("1"), Counting(loads));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(loads, 3);                           // loaded anew
  cache.Release(std::make_shared<FakeModel>());  // not cached: nothing happens
  EXPECT_EQ(cache.GetStats().loaded, 2);
}

}  // namespace
}  // namespace cairn::serving
