#include "api/v1/openapi.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <regex>
#include <set>
#include <string>
#include <utility>

#include "api/v1/model_test_env.h"

namespace cairn::api::v1 {
namespace {

namespace bj = boost::json;

bj::object ParseDocument() {
  boost::system::error_code ec;
  bj::value doc = bj::parse(OpenApiDocument(), ec);
  EXPECT_FALSE(ec) << "openapi.json is not valid JSON: " << ec.message();
  if (ec || !doc.is_object()) return {};
  return doc.as_object();
}

const std::set<std::string>& OperationKeys() {
  static const std::set<std::string> keys = {"get",  "put",     "post",  "delete",
                                             "head", "options", "patch", "trace"};
  return keys;
}

// Every (METHOD, path) pair the document describes.
std::set<std::pair<std::string, std::string>> DocumentedRoutes(const bj::object& doc) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [key, operation] : item.as_object()) {
      if (!OperationKeys().contains(std::string(key))) continue;
      std::string method(key);
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.emplace(method, std::string(path));
    }
  }
  return out;
}

// Every /api/v1 route the router serves, with "{rest...}" written as OpenAPI's "{rest}".
std::set<std::pair<std::string, std::string>> RegisteredRoutes(const http::Router& router) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& [method, pattern] : router.Routes()) {
    if (!pattern.starts_with("/api/v1/")) continue;
    out.emplace(std::string(http::MethodName(method)),
                std::regex_replace(pattern, std::regex(R"(\.\.\.\})"), "}"));
  }
  return out;
}

// Resolves a local "#/a/b" reference; nullptr if it does not exist.
const bj::value* Resolve(const bj::object& doc, std::string_view ref) {
  if (!ref.starts_with("#/")) return nullptr;
  const bj::value* node = nullptr;
  const bj::object* current = &doc;
  std::string_view rest = ref.substr(2);
  while (true) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    auto it = current->find(part);
    if (it == current->end()) return nullptr;
    node = &it->value();
    if (slash == std::string_view::npos) return node;
    if (!node->is_object()) return nullptr;
    current = &node->as_object();
    rest = rest.substr(slash + 1);
  }
}

const bj::object& Deref(const bj::object& doc, const bj::value& v) {
  static const bj::object empty;
  if (!v.is_object()) return empty;
  const bj::object& obj = v.as_object();
  auto ref = obj.find("$ref");
  if (ref == obj.end()) return obj;
  const bj::value* target = Resolve(doc, ref->value().as_string());
  return target != nullptr && target->is_object() ? target->as_object() : empty;
}

void CollectRefs(const bj::value& v, std::vector<std::string>& refs) {
  if (v.is_object()) {
    for (const auto& [key, child] : v.as_object()) {
      if (key == "$ref" && child.is_string()) refs.emplace_back(child.as_string());
      CollectRefs(child, refs);
    }
  } else if (v.is_array()) {
    for (const auto& child : v.as_array()) CollectRefs(child, refs);
  }
}

TEST(OpenApiTest, DocumentIsOpenApi30Json) {
  bj::object doc = ParseDocument();
  ASSERT_TRUE(doc.contains("openapi"));
  ASSERT_TRUE(doc.at("openapi").is_string());
  EXPECT_TRUE(std::string_view(doc.at("openapi").as_string()).starts_with("3.0."))
      << doc.at("openapi");
  ASSERT_TRUE(doc.contains("info"));
  EXPECT_TRUE(doc.at("info").as_object().contains("title"));
  EXPECT_TRUE(doc.at("info").as_object().contains("version"));
  ASSERT_TRUE(doc.contains("paths"));
  EXPECT_FALSE(doc.at("paths").as_object().empty());
}

TEST(OpenApiTest, DocumentedRoutesAreExactlyTheRegisteredV1Routes) {
  ModelApiEnv env;
  bj::object doc = ParseDocument();
  auto documented = DocumentedRoutes(doc);
  auto registered = RegisteredRoutes(env.router());
  EXPECT_FALSE(registered.empty());
  for (const auto& [method, path] : registered) {
    EXPECT_TRUE(documented.contains({method, path}))
        << method << " " << path << " is served but missing from openapi.json";
  }
  for (const auto& [method, path] : documented) {
    EXPECT_TRUE(registered.contains({method, path}))
        << method << " " << path << " is in openapi.json but no route serves it";
  }
}

TEST(OpenApiTest, EveryReferenceResolves) {
  bj::object doc = ParseDocument();
  std::vector<std::string> refs;
  CollectRefs(doc, refs);
  EXPECT_FALSE(refs.empty());
  for (const auto& ref : refs) {
    EXPECT_NE(Resolve(doc, ref), nullptr) << "dangling $ref " << ref;
  }
}

TEST(OpenApiTest, PathParametersMatchTheTemplate) {
  bj::object doc = ParseDocument();
  const std::regex placeholder(R"(\{([^}]+)\})");
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    std::set<std::string> in_template;
    std::string p(path);
    for (std::sregex_iterator it(p.begin(), p.end(), placeholder), end; it != end; ++it) {
      in_template.insert((*it)[1]);
    }
    for (const auto& [key, operation] : item.as_object()) {
      if (!OperationKeys().contains(std::string(key))) continue;
      std::set<std::string> declared;
      const bj::object& op = operation.as_object();
      if (auto params = op.find("parameters"); params != op.end()) {
        for (const auto& param : params->value().as_array()) {
          const bj::object& resolved = Deref(doc, param);
          ASSERT_TRUE(resolved.contains("name") && resolved.contains("in"))
              << key << " " << path << ": " << param;
          if (resolved.at("in") == "path") {
            EXPECT_EQ(resolved.at("required"), true) << key << " " << path;
            declared.insert(std::string(resolved.at("name").as_string()));
          }
        }
      }
      EXPECT_EQ(declared, in_template) << key << " " << path;
    }
  }
}

TEST(OpenApiTest, EveryOperationDocumentsSuccessAndErrorsUseTheEnvelope) {
  bj::object doc = ParseDocument();
  const bj::value* error_schema = Resolve(doc, "#/components/schemas/Error");
  ASSERT_NE(error_schema, nullptr);
  EXPECT_EQ(error_schema->as_object().at("required"), (bj::array{"error_code", "message"}));
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [key, operation] : item.as_object()) {
      if (!OperationKeys().contains(std::string(key))) continue;
      const bj::object& op = operation.as_object();
      EXPECT_TRUE(op.contains("operationId")) << key << " " << path;
      ASSERT_TRUE(op.contains("responses")) << key << " " << path;
      bool has_success = false;
      for (const auto& [status, response] : op.at("responses").as_object()) {
        const bj::object& r = Deref(doc, response);
        ASSERT_TRUE(r.contains("description")) << key << " " << path << " " << status;
        if (status.starts_with("2")) has_success = true;
        if (status.starts_with("4") || status.starts_with("5")) {
          const bj::value& schema =
              r.at("content").as_object().at("application/json").as_object().at("schema");
          EXPECT_EQ(schema, (bj::object{{"$ref", "#/components/schemas/Error"}}))
              << key << " " << path << " " << status;
        }
      }
      EXPECT_TRUE(has_success) << key << " " << path;
    }
  }
}

TEST(OpenApiTest, ServedAtApiV1OpenApiJson) {
  ModelApiEnv env;
  http::Response response = env.Call(http::Method::kGet, "/api/v1/openapi.json");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, OpenApiDocument());
}

}  // namespace
}  // namespace cairn::api::v1
