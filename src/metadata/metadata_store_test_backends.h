#pragma once

// Shared by the conformance suites (metadata_store_conformance_test.cc,
// registry_store_conformance_test.cc): status assertions and the list of backends every suite
// runs against. A backend joins by adding an entry to kConformanceBackends.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "base/status.h"
#include "metadata/metadata_store.h"
#include "metadata/sqlite/sqlite_metadata_store.h"

namespace cairn::metadata::testing_util {

inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const StatusOr<T>& s) {
  return s.status();
}

#define CAIRN_TEST_CONCAT_INNER(a, b) a##b
#define CAIRN_TEST_CONCAT(a, b) CAIRN_TEST_CONCAT_INNER(a, b)

#define ASSERT_OK(expr)                                                    \
  do {                                                                     \
    ::cairn::Status _st = ::cairn::metadata::testing_util::ToStatus(expr); \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st.ToString();              \
  } while (false)
#define EXPECT_OK(expr)                                                    \
  do {                                                                     \
    ::cairn::Status _st = ::cairn::metadata::testing_util::ToStatus(expr); \
    EXPECT_TRUE(_st.ok()) << #expr << ": " << _st.ToString();              \
  } while (false)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)                    \
  auto tmp = (expr);                                                 \
  ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(CAIRN_TEST_CONCAT(_statusor_, __LINE__), lhs, expr)

struct Backend {
  std::string name;
  // Opens the store whose state lives under `dir`; opening the same dir again must see the same
  // data. Returns UNAVAILABLE when the backend cannot run here (the suite then skips).
  std::function<StatusOr<std::unique_ptr<MetadataStore>>(const std::string& dir)> open;
};

// Names the backend in test output (instead of a byte dump of the struct).
inline void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

inline std::string BackendName(const testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

inline StatusOr<std::unique_ptr<MetadataStore>> OpenSqlite(const std::string& dir) {
  ASSIGN_OR_RETURN(auto store, SqliteMetadataStore::Open(dir + "/meta.db"));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

// The writer connection alone, with checkpoints on the committing thread.
inline StatusOr<std::unique_ptr<MetadataStore>> OpenSqliteSingleConnection(const std::string& dir) {
  SqliteOptions options;
  options.reader_connections = 0;
  options.checkpoint_frames = 0;
  ASSIGN_OR_RETURN(auto store, SqliteMetadataStore::Open(dir + "/meta.db", options));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

inline const Backend kConformanceBackends[] = {
    {"Sqlite", OpenSqlite},
    {"SqliteSingleConnection", OpenSqliteSingleConnection},
};

}  // namespace cairn::metadata::testing_util
