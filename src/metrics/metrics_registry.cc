#include "metrics/metrics_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace cairn::metrics {
namespace {

constexpr std::array<double, 16> kLatencyBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                    0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                    1,      2.5,     5,      10};

[[noreturn]] void Die(std::string_view what, std::string_view name) {
  std::fprintf(stderr, "metrics: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(name.size()), name.data());
  std::abort();
}

bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void AppendEscaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// Canonical label text, sorted by label name: a="x",b="y" (no braces).
std::string LabelKey(const MetricLabels& labels, std::string_view metric) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(labels.size());
  for (const auto& label : labels) {
    if (!IsValidName(label.first, false) || label.first.starts_with("__") || label.first == "le") {
      Die("invalid label name", label.first);
    }
    sorted.push_back(&label);
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::string key;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0) {
      if (sorted[i]->first == sorted[i - 1]->first) Die("duplicate label on", metric);
      key += ',';
    }
    key += sorted[i]->first;
    key += "=\"";
    AppendEscaped(key, sorted[i]->second, true);
    key += '"';
  }
  return key;
}

void AppendNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

void AppendSample(std::string& out, std::string_view name, std::string_view suffix,
                  std::string_view labels, std::string_view extra_label, double value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra_label.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra_label.empty()) out += ',';
    out += extra_label;
    out += '}';
  }
  out += ' ';
  AppendNumber(out, value);
  out += '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::Observe(double value) {
  size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = counts_[i].load(std::memory_order_relaxed);
  return out;
}

std::span<const double> MetricsRegistry::DefaultLatencyBuckets() { return kLatencyBuckets; }

MetricsRegistry::MetricsRegistry(const Clock& clock) {
  GetGauge("cairn_up", "1 while the server process is up.").Set(1);
  GetGauge("cairn_start_time_seconds", "Start time of the process since the Unix epoch, seconds.")
      .Set(static_cast<double>(clock.NowMillis()) / 1000.0);
}

MetricsRegistry::Series& MetricsRegistry::GetSeries(Type type, std::string_view name,
                                                    std::string_view help,
                                                    const MetricLabels& labels,
                                                    std::span<const double> bounds) {
  std::string key = LabelKey(labels, name);
  MutexLock lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (!IsValidName(name, true)) Die("invalid metric name", name);
    if (type == Type::kHistogram) {
      if (!std::is_sorted(bounds.begin(), bounds.end()) ||
          std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end()) {
        Die("histogram buckets must ascend strictly", name);
      }
    }
    Family family{type, std::string(help), {}, {}};
    if (type == Type::kHistogram) family.bounds.assign(bounds.begin(), bounds.end());
    it = families_.emplace(std::string(name), std::move(family)).first;
  } else if (it->second.type != type) {
    Die("metric registered twice with different types", name);
  }
  Family& family = it->second;
  auto [series_it, inserted] = family.series.try_emplace(std::move(key));
  Series& series = series_it->second;
  if (inserted) {
    switch (type) {
      case Type::kCounter:
        series.counter = std::make_unique<Counter>();
        break;
      case Type::kGauge:
        series.gauge = std::make_unique<Gauge>();
        break;
      case Type::kHistogram:
        series.histogram = std::make_unique<Histogram>(family.bounds);
        break;
    }
  }
  return series;
}

Counter& MetricsRegistry::GetCounter(std::string_view name, std::string_view help,
                                     const MetricLabels& labels) {
  return *GetSeries(Type::kCounter, name, help, labels, {}).counter;
}

Gauge& MetricsRegistry::GetGauge(std::string_view name, std::string_view help,
                                 const MetricLabels& labels) {
  return *GetSeries(Type::kGauge, name, help, labels, {}).gauge;
}

Histogram& MetricsRegistry::GetHistogram(std::string_view name, std::string_view help,
                                         const MetricLabels& labels,
                                         std::span<const double> bounds) {
  return *GetSeries(Type::kHistogram, name, help, labels, bounds).histogram;
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::string out;
  out.reserve(4096);
  MutexLock lock(mu_);
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    AppendEscaped(out, family.help, false);
    out += "\n# TYPE ";
    out += name;
    switch (family.type) {
      case Type::kCounter:
        out += " counter\n";
        break;
      case Type::kGauge:
        out += " gauge\n";
        break;
      case Type::kHistogram:
        out += " histogram\n";
        break;
    }
    for (const auto& [labels, series] : family.series) {
      if (series.counter) {
        AppendSample(out, name, "", labels, "", series.counter->Value());
      } else if (series.gauge) {
        AppendSample(out, name, "", labels, "", series.gauge->Value());
      } else {
        const Histogram& histogram = *series.histogram;
        std::vector<uint64_t> counts = histogram.BucketCounts();
        uint64_t cumulative = 0;
        std::string le;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          le = "le=\"";
          if (i < histogram.bounds().size()) {
            AppendNumber(le, histogram.bounds()[i]);
          } else {
            le += "+Inf";
          }
          le += '"';
          AppendSample(out, name, "_bucket", labels, le, static_cast<double>(cumulative));
        }
        AppendSample(out, name, "_sum", labels, "", histogram.Sum());
        // The count is the +Inf bucket, so the two always agree in one scrape.
        AppendSample(out, name, "_count", labels, "", static_cast<double>(cumulative));
      }
    }
  }
  return out;
}

}  // namespace cairn::metrics
