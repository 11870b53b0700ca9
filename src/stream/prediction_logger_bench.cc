// Events per second appended through PredictionLogger into an event log (by default SQLite on a
// temporary file; or any events URI, e.g. kafka://127.0.0.1:9092/bench, which
// bench/kafka_stream_bench.py compares), and the cost of Log on the caller's thread. Prints;
// asserts nothing.
//
//   prediction_logger_bench [events=200000] [producers=2] [input_bytes=400] [events_uri]

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "stream/event_stream_factory.h"
#include "stream/kafka/kafka_event_stream.h"
#include "stream/prediction_logger.h"
#include "stream/sqlite/sqlite_event_stream.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  using namespace cairn::stream;
  const int events = argc > 1 ? std::atoi(argv[1]) : 200000;
  const int producers = argc > 2 ? std::atoi(argv[2]) : 2;
  const int input_bytes = argc > 3 ? std::atoi(argv[3]) : 400;
  if (events <= 0 || producers <= 0 || input_bytes < 2) {
    std::fprintf(stderr, "usage: %s [events] [producers] [input_bytes] [events_uri]\n", argv[0]);
    return 2;
  }

  std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-logbench-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return 1;
  const std::string dir = tmpl;
  int rc = 0;
  {
    const std::string uri = argc > 4 ? argv[4] : "sqlite:///" + dir + "/events.db";
    EventStreamRegistry registry;
    if (!RegisterSqliteEventStream(registry).ok() || !RegisterKafkaEventStream(registry).ok()) {
      return 1;
    }
    auto opened = CreateEventStream(registry, uri);
    if (!opened.ok()) {
      std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
      return 1;
    }
    std::unique_ptr<EventStream> log = std::move(opened).value();

    // A V2-like input body of about input_bytes: [0.123,0.123,...].
    std::string inputs = "[";
    while (static_cast<int>(inputs.size()) < input_bytes - 7) inputs += "0.1234,";
    inputs.back() = ']';

    PredictionLogger logger(*log, {.queue_capacity = 65536, .max_batch = 1000});
    const int per_producer = events / producers;
    std::vector<double> log_seconds(producers);
    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        Clock::duration spent{};
        for (int i = 0; i < per_producer; ++i) {
          PredictionEvent e;
          e.tenant = "default";
          e.deployment_id = "dep-" + std::to_string(p % 4);
          e.deployment_name = "bench";
          e.model_name = "model";
          e.model_version = "1";
          e.request_id = std::to_string(p) + "-" + std::to_string(i);
          e.timestamp_ms = 1700000000000 + i;
          e.latency_us = 250;
          e.protocol = "v2";
          e.status_code = 200;
          e.inputs_json = inputs;
          e.outputs_json = "[0.42]";
          auto before = Clock::now();
          // Back-pressure so that every event is measured through to the log.
          if (!logger.LogOrWait(std::move(e), Clock::now() + std::chrono::seconds(30)).ok()) {
            return;
          }
          spent += Clock::now() - before;
        }
        log_seconds[p] = Seconds(spent);
      });
    }
    for (std::thread& t : threads) t.join();
    cairn::Status flushed = logger.Flush();
    double elapsed = Seconds(Clock::now() - start);
    if (!flushed.ok()) {
      std::fprintf(stderr, "flush: %s\n", flushed.ToString().c_str());
      rc = 1;
    }
    double logged = static_cast<double>(logger.Appended());
    double caller_seconds = 0;
    for (double s : log_seconds) caller_seconds += s;
    std::printf(
        "prediction_logger_bench: %.0f events (%d producers, ~%zu-byte inputs) appended in "
        "%.2f s: %.0f events/s; dropped %lld, failed %lld; mean LogOrWait %.2f us (includes "
        "waiting for room)\n",
        logged, producers, inputs.size(), elapsed, logged / elapsed,
        static_cast<long long>(logger.Dropped()), static_cast<long long>(logger.Failed()),
        caller_seconds * 1e6 / std::max(1.0, logged));
    if (std::filesystem::exists(dir + "/events.db")) {
      std::printf("events.db: %.1f MB\n",
                  static_cast<double>(std::filesystem::file_size(dir + "/events.db")) / 1e6);
    }
  }
  std::filesystem::remove_all(dir);
  return rc;
}
