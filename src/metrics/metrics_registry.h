#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace cairn::metrics {

// Label name/value pairs identifying one series of a metric family. Order does not matter.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing value. Lock-free; safe from any thread.
class Counter {
 public:
  void Increment(double delta = 1) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down. Lock-free; safe from any thread.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into fixed buckets (upper bounds, ascending; +Inf is implicit). Lock-free;
// safe from any thread. A concurrent reader may see an observation in the count before the sum.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);

  void Observe(double value);

  const std::vector<double>& bounds() const { return bounds_; }
  // Observations per bucket (not cumulative); one more entry than bounds(), the last for +Inf.
  std::vector<uint64_t> BucketCounts() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// Named metric families, rendered in the Prometheus text exposition format (0.0.4).
//
// Get* returns the series for (name, labels), creating the family and the series on first use;
// the reference stays valid for the registry's lifetime, so hot paths look a series up once
// and keep the reference. Asking for an existing name with another type, or an invalid metric
// or label name, is a programming error and aborts.
//
// The constructor registers the process gauges cairn_up (1) and cairn_start_time_seconds.
// Thread-safe: Get* and RenderPrometheus take a mutex; updating a series does not.
class MetricsRegistry {
 public:
  explicit MetricsRegistry(const Clock& clock = SystemClock::Get());
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Counter& GetCounter(std::string_view name, std::string_view help,
                      const MetricLabels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  // `bounds` applies when the family is created; later calls reuse the family's buckets.
  Histogram& GetHistogram(std::string_view name, std::string_view help,
                          const MetricLabels& labels = {},
                          std::span<const double> bounds = DefaultLatencyBuckets());

  std::string RenderPrometheus() const;

  // Seconds, 0.0001 .. 10.
  static std::span<const double> DefaultLatencyBuckets();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    Type type;
    std::string help;
    std::vector<double> bounds;
    std::map<std::string, Series> series;  // rendered label set ("a=\"x\",b=\"y\"") -> series
  };

  Series& GetSeries(Type type, std::string_view name, std::string_view help,
                    const MetricLabels& labels, std::span<const double> bounds) EXCLUDES(mu_);

  mutable Mutex mu_;
  std::map<std::string, Family, std::less<>> families_ GUARDED_BY(mu_);
};

}  // namespace cairn::metrics
