// Measures AuditLog on a real file: the cost of Append to the calling thread (8 threads at once)
// and the sustained rate of entries committed to disk, then how fast Verify reads the chain back.
// Prints; asserts nothing.
//
// Usage: audit_log_bench [entries=1000000] [dir=/tmp] [synchronous_full=0] [threads=8]

#include <stdlib.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_log.h"
#include "audit/sql_audit_store.h"

namespace cairn::audit {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU time of the calling thread: what Append costs it, apart from waiting for a core.
int64_t ThreadCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

AuditEntry Request(int64_t i) {
  AuditEntry e;
  e.principal = "user-" + std::to_string(i % 50) + "@example.com";
  e.tenant = "tenant-" + std::to_string(i % 4);
  e.action = "POST /api/2.0/mlflow/runs/log-metric";
  e.resource = "9f1c2a7e5b3d4c6e8a0b1c2d3e4f5a6b";
  e.outcome = "ok";
  e.status = 200;
  e.request_id = "0b6e4f2a-7d1c-4c1e-9a3b-" + std::to_string(100000000000 + i);
  e.client = "10.1.2.3:51234";
  return e;
}

int Run(int64_t entries, const std::string& parent, bool synchronous_full, int threads_n,
        size_t capacity, const char* label) {
  std::string tmpl = parent + "/cairn-audit-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return 1;
  sqlite::DatabaseOptions db_options;
  db_options.synchronous_full = synchronous_full;
  auto store = SqlAuditStore::OpenSqlite(tmpl + "/audit.db", db_options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  AuditLogOptions options;
  options.key = "bench key: 32 bytes of secret...";
  options.queue_capacity = capacity;
  auto log = AuditLog::Open(**store, options);
  if (!log.ok()) return 1;

  const int kThreads = threads_n;
  const int64_t per_thread = entries / kThreads;
  std::atomic<int64_t> durable{0};
  std::atomic<int64_t> caller_ns{0};
  std::atomic<int64_t> caller_cpu_ns{0};
  std::vector<std::vector<AuditEntry>> prepared(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    prepared[t].reserve(per_thread);
    for (int64_t i = 0; i < per_thread; ++i) prepared[t].push_back(Request(t * per_thread + i));
  }
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto begin = Clock::now();
      const int64_t cpu_begin = ThreadCpuNanos();
      for (AuditEntry& e : prepared[t]) {
        (*log)->Append(std::move(e), [&durable](Status s) {
          if (s.ok()) durable.fetch_add(1, std::memory_order_relaxed);
        });
      }
      caller_cpu_ns += ThreadCpuNanos() - cpu_begin;
      caller_ns +=
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - begin).count();
    });
  }
  for (std::thread& t : threads) t.join();
  const auto queued = Clock::now();
  Status flushed = (*log)->Flush();
  const auto done = Clock::now();
  const int64_t total = per_thread * kThreads;
  AuditLogStats stats = (*log)->Stats();
  std::printf(
      "%s: %lld entries from %d threads, queue %zu, synchronous=%s\n"
      "  Append cost to the caller: %.0f ns/call wall, %.0f ns/call CPU (mean over threads; wall\n"
      "    includes waiting for room and for a core)\n"
      "  all queued after %.3f s; all durable after %.3f s: %.0f entries/s sustained\n"
      "  batches %lld (%.0f entries/batch), blocked appends %lld, durable callbacks %lld, %s\n",
      label, static_cast<long long>(total), kThreads, capacity,
      synchronous_full ? "FULL" : "NORMAL", static_cast<double>(caller_ns.load()) / total,
      static_cast<double>(caller_cpu_ns.load()) / total, Seconds(queued - start),
      Seconds(done - start), total / Seconds(done - start), static_cast<long long>(stats.batches),
      static_cast<double>(stats.appended) / stats.batches, static_cast<long long>(stats.blocked),
      static_cast<long long>(durable.load()), flushed.ok() ? "ok" : flushed.ToString().c_str());

  const auto verify_start = Clock::now();
  auto verified = (*log)->Verify();
  const double verify_s = Seconds(Clock::now() - verify_start);
  if (verified.ok()) {
    std::printf("  Verify: %s, %lld entries in %.3f s (%.0f entries/s)\n",
                verified->ok ? "ok" : verified->reason.c_str(),
                static_cast<long long>(verified->entries_checked), verify_s,
                verified->entries_checked / verify_s);
  }
  std::error_code ec;
  std::printf("  file: %.1f MB (%.0f bytes/entry)\n",
              std::filesystem::file_size(tmpl + "/audit.db", ec) / 1e6,
              static_cast<double>(std::filesystem::file_size(tmpl + "/audit.db", ec)) / total);
  log->reset();
  store->reset();
  std::filesystem::remove_all(tmpl, ec);
  return 0;
}

}  // namespace
}  // namespace cairn::audit

int main(int argc, char** argv) {
  const int64_t entries = argc > 1 ? std::atoll(argv[1]) : 1000000;
  const std::string dir = argc > 2 ? argv[2] : "/tmp";
  const bool full = argc > 3 && std::string(argv[3]) == "1";
  const int threads = argc > 4 ? std::atoi(argv[4]) : 8;
  // Room for everything: what Append costs when it never waits.
  if (cairn::audit::Run(entries, dir, full, threads, static_cast<size_t>(entries),
                        "unbounded queue") != 0) {
    return 1;
  }
  // The default bound: callers wait for the writer once it is full.
  return cairn::audit::Run(entries, dir, full, threads, 100000, "default queue");
}
