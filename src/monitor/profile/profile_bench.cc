// Times reading a synthetic CSV (100k rows x 20 columns: 15 numeric, 5 categorical) through
// TableReader in 64 KiB chunks, building its profile, and encoding and decoding the result.
// Usage: profile_bench [rows]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "monitor/profile/reference_profile.h"
#include "monitor/profile/table_reader.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

std::string MakeCsv(int rows) {
  constexpr int kNumeric = 15;
  constexpr int kCategorical = 5;
  std::mt19937_64 rng(42);
  std::normal_distribution<double> normal(50.0, 12.0);
  std::uniform_int_distribution<int> category(0, 40);
  std::string csv;
  for (int c = 0; c < kNumeric; ++c) csv += "num" + std::to_string(c) + ",";
  for (int c = 0; c < kCategorical; ++c) {
    csv += "cat" + std::to_string(c) + (c + 1 < kCategorical ? "," : "\n");
  }
  char buf[32];
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < kNumeric; ++c) {
      if (rng() % 100 == 0) {
        csv += "NA,";  // 1% missing
      } else {
        std::snprintf(buf, sizeof buf, "%.17g,", normal(rng));
        csv += buf;
      }
    }
    for (int c = 0; c < kCategorical; ++c) {
      csv += "level_" + std::to_string(category(rng)) + (c + 1 < kCategorical ? "," : "\n");
    }
  }
  return csv;
}

// The same table as JSON lines: numbers as numbers, missing values as null.
std::string CsvToJsonLines(const std::string& csv) {
  std::vector<std::string> names;
  std::string out;
  size_t pos = csv.find('\n');
  for (size_t start = 0; start < pos;) {
    const size_t end = std::min(csv.find(',', start), pos);
    names.push_back(csv.substr(start, end - start));
    start = end + 1;
  }
  ++pos;
  while (pos < csv.size()) {
    const size_t line_end = csv.find('\n', pos);
    out += '{';
    size_t start = pos;
    for (size_t c = 0; c < names.size(); ++c) {
      const size_t end = c + 1 < names.size() ? csv.find(',', start) : line_end;
      const std::string cell = csv.substr(start, end - start);
      out += (c > 0 ? ",\"" : "\"") + names[c] + "\":";
      if (cell == "NA") {
        out += "null";
      } else if (cell.starts_with("level_")) {
        out += "\"" + cell + "\"";
      } else {
        out += cell;
      }
      start = end + 1;
    }
    out += "}\n";
    pos = line_end + 1;
  }
  return out;
}

template <typename F>
double Time(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return Seconds(start);
}

}  // namespace

int main(int argc, char** argv) {
  using cairn::monitor::TableFormat;
  using cairn::monitor::TableReader;
  const int rows = argc > 1 ? std::atoi(argv[1]) : 100'000;
  const std::string csv = MakeCsv(rows);

  auto start = std::chrono::steady_clock::now();
  TableReader reader(TableFormat::kCsv);
  constexpr size_t kChunk = 64 * 1024;
  for (size_t i = 0; i < csv.size(); i += kChunk) {
    if (cairn::Status s = reader.Feed(std::string_view(csv).substr(i, kChunk)); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  if (cairn::Status s = reader.Finish(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  auto columns = reader.TakeColumns();
  const double parse_s = Seconds(start);

  start = std::chrono::steady_clock::now();
  auto profile = cairn::monitor::BuildProfile(std::move(columns));
  if (!profile.ok()) {
    std::fprintf(stderr, "%s\n", profile.status().ToString().c_str());
    return 1;
  }
  const double build_s = Seconds(start);

  start = std::chrono::steady_clock::now();
  const std::string encoded = cairn::monitor::EncodeProfile(*profile);
  const double encode_s = Seconds(start);
  start = std::chrono::steady_clock::now();
  auto decoded = cairn::monitor::DecodeProfile(encoded);
  const double decode_s = Seconds(start);
  if (!decoded.ok()) {
    std::fprintf(stderr, "%s\n", decoded.status().ToString().c_str());
    return 1;
  }

  std::printf("rows %d, columns %zu, csv %.1f MiB\n", rows, profile->features.size(),
              static_cast<double>(csv.size()) / (1 << 20));
  std::printf("csv parse     %7.3f s  (%.0f MiB/s)\n", parse_s,
              static_cast<double>(csv.size()) / (1 << 20) / parse_s);
  std::printf("build profile %7.3f s\n", build_s);
  std::printf("parse + build %7.3f s\n", parse_s + build_s);
  std::printf("encode        %7.3f s  (%.1f MiB)\n", encode_s,
              static_cast<double>(encoded.size()) / (1 << 20));
  std::printf("decode        %7.3f s\n", decode_s);

  const std::string jsonl = CsvToJsonLines(csv);
  cairn::Status status;
  const double jsonl_s =
      Time([&] { status = cairn::monitor::ReadTable(jsonl, TableFormat::kJsonLines).status(); });
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("jsonl parse   %7.3f s  (%.1f MiB, %.0f MiB/s)\n", jsonl_s,
              static_cast<double>(jsonl.size()) / (1 << 20),
              static_cast<double>(jsonl.size()) / (1 << 20) / jsonl_s);
  return 0;
}
