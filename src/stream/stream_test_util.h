#pragma once

// Test helpers shared by the stream tests: status assertions and a temporary directory.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "base/status.h"

namespace cairn::stream::testing_util {

inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const StatusOr<T>& s) {
  return s.status();
}

#define STREAM_TEST_CONCAT_INNER(a, b) a##b
#define STREAM_TEST_CONCAT(a, b) STREAM_TEST_CONCAT_INNER(a, b)

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    ::cairn::Status _st = ::cairn::stream::testing_util::ToStatus(expr); \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st.ToString();            \
  } while (false)
#define EXPECT_OK(expr)                                                  \
  do {                                                                   \
    ::cairn::Status _st = ::cairn::stream::testing_util::ToStatus(expr); \
    EXPECT_TRUE(_st.ok()) << #expr << ": " << _st.ToString();            \
  } while (false)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)                    \
  auto tmp = (expr);                                                 \
  ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(STREAM_TEST_CONCAT(_statusor_, __LINE__), lhs, expr)

// A fresh directory under the system temp directory, removed with everything in it on
// destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-stream-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cairn::stream::testing_util
