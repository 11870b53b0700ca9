#pragma once

// Test-only access to the engines scripts/test_services.sh starts (PostgreSQL, Redis, Kafka, an
// S3-compatible server). A suite that needs one calls CAIRN_TEST_SERVICE(var, "POSTGRES") at the
// top of its test or SetUp(): it reads CAIRN_TEST_POSTGRES_URI into `var`, and when the variable
// is unset it skips the test, or fails it when CAIRN_REQUIRE_SERVICES=1 (./dev.sh test sets it,
// so a missing engine can never pass there as a skip).

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::testing_services {

// The value of CAIRN_TEST_<engine>_URI, or nullopt when unset or empty.
inline std::optional<std::string> ServiceUri(std::string_view engine) {
  const std::string name = "CAIRN_TEST_" + std::string(engine) + "_URI";
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// A PostgreSQL schema name for the state a test keeps under `dir` (its temporary folder):
// `prefix` then the folder's name, lower-cased with upper-case letters marked, so that tests never
// see each other's rows and reopening the same folder finds the same schema.
inline std::string TestSchemaName(std::string_view prefix, const std::string& dir) {
  std::string schema(prefix);
  std::string_view name(dir);
  if (size_t slash = name.find_last_of('/'); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  for (char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      schema += c;
    } else if (c >= 'A' && c <= 'Z') {
      schema += static_cast<char>(c - 'A' + 'a');
      schema += 'u';  // keeps "Ab" and "aB" apart once lower-cased
    } else {
      schema += '_';
    }
  }
  return schema;
}

inline bool ServicesRequired() {
  const char* value = std::getenv("CAIRN_REQUIRE_SERVICES");
  return value != nullptr && std::string_view(value) == "1";
}

}  // namespace cairn::testing_services

#define CAIRN_TEST_SERVICE(var, engine)                                   \
  do {                                                                    \
    auto _uri = ::cairn::testing_services::ServiceUri(engine);            \
    if (!_uri) {                                                          \
      if (::cairn::testing_services::ServicesRequired()) {                \
        FAIL() << "CAIRN_TEST_" engine                                    \
                  "_URI is unset but CAIRN_REQUIRE_SERVICES=1; start it " \
                  "with scripts/test_services.sh";                        \
      }                                                                   \
      GTEST_SKIP() << "CAIRN_TEST_" engine                                \
                      "_URI is unset (scripts/test_services.sh starts "   \
                      "it)";                                              \
    }                                                                     \
    (var) = *_uri;                                                        \
  } while (false)
