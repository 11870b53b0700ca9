#pragma once

// Test-only status assertions, shared by every gtest suite: ASSERT_OK / EXPECT_OK on a Status or
// a StatusOr, and ASSERT_OK_AND_ASSIGN(lhs, expr), which fails the test on an error and
// otherwise moves the value into `lhs`. Each failure prints the expression and the status.

#include <gtest/gtest.h>

#include <utility>

#include "base/status.h"

namespace cairn::testing_status {

inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const StatusOr<T>& s) {
  return s.status();
}

}  // namespace cairn::testing_status

#define CAIRN_STATUS_TEST_CONCAT_INNER(a, b) a##b
#define CAIRN_STATUS_TEST_CONCAT(a, b) CAIRN_STATUS_TEST_CONCAT_INNER(a, b)

#define ASSERT_OK(expr)                                            \
  do {                                                             \
    ::cairn::Status _st = ::cairn::testing_status::ToStatus(expr); \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st.ToString();      \
  } while (false)
#define EXPECT_OK(expr)                                            \
  do {                                                             \
    ::cairn::Status _st = ::cairn::testing_status::ToStatus(expr); \
    EXPECT_TRUE(_st.ok()) << #expr << ": " << _st.ToString();      \
  } while (false)
// `tmp` names a variable and `lhs` is a declaration or an lvalue: neither can be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CAIRN_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)              \
  auto tmp = (expr);                                                 \
  ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  CAIRN_ASSERT_OK_AND_ASSIGN_IMPL(CAIRN_STATUS_TEST_CONCAT(_statusor_, __LINE__), lhs, expr)
