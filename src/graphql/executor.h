#pragma once

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "graphql/document.h"

namespace cairn::graphql {

// Output and input types are referred to by name. Built-in scalars: String, Int, Float, Boolean,
// ID. A scalar added with AddScalar serializes through its own function.
struct TypeName {
  std::string name;
  bool list = false;  // a list of `name` (items never null)
};

// What the caller of Execute hands to every resolver (e.g. who is asking); resolvers cast it to
// the concrete type their schema's user passes.
class ExecutionContext {
 public:
  virtual ~ExecutionContext() = default;
};

// A field resolver: the parent's JSON value and the field's coerced arguments (input objects
// already in the resolver's JSON form: see InputField::key) in, the field's JSON value out. A
// failed status becomes a GraphQL error at the field's path and a null value.
using ResolverFn = std::function<StatusOr<boost::json::value>(
    ExecutionContext& context, const boost::json::object& parent, const boost::json::object& args)>;

struct ArgumentDef {
  std::string name;
  TypeName type;
};

struct InputField {
  std::string name;  // as the client writes it: runId
  TypeName type;
  std::string key;  // the resolver's JSON key: run_id (default: name in snake_case)
};

// Schema: object types, input object types, enums and scalars, and the root types' names.
// Immutable once built; then safe to use from many threads at once.
class Schema {
 public:
  struct Field {
    std::string name;  // camelCase, as queried
    TypeName type;
    std::string key;  // where the default resolver reads it in the parent's JSON object
    std::vector<ArgumentDef> arguments;
    ResolverFn resolve;  // unset: read parent[key]
    // What the default resolver yields when the parent has no `key` (e.g. a protobuf message's
    // default: "", 0, [], an empty message); unset: null.
    std::optional<boost::json::value> absent;
  };
  struct ObjectType {
    std::string name;
    std::vector<Field> fields;
    const Field* Find(std::string_view field) const {
      for (const Field& f : fields) {
        if (f.name == field) return &f;
      }
      return nullptr;
    }
  };
  // Serializes a resolved JSON value as the scalar; nullopt means null.
  using ScalarFn = std::function<std::optional<boost::json::value>(const boost::json::value&)>;

  // Adds an object type whose fields read parent[snake_case(name)] unless given a resolver.
  ObjectType& AddObject(std::string name);
  void AddInput(std::string name, std::vector<InputField> fields);
  void AddEnum(std::string name, std::vector<std::string> values);
  void AddScalar(std::string name, ScalarFn serialize);
  void SetRoots(std::string query, std::string mutation) {
    query_ = std::move(query);
    mutation_ = std::move(mutation);
  }

  const ObjectType* Object(std::string_view name) const;
  const std::vector<InputField>* Input(std::string_view name) const;
  const std::vector<std::string>* Enum(std::string_view name) const;
  const ScalarFn* Scalar(std::string_view name) const;
  const std::string& query_type() const { return query_; }
  const std::string& mutation_type() const { return mutation_; }

 private:
  std::map<std::string, ObjectType, std::less<>> objects_;
  std::map<std::string, std::vector<InputField>, std::less<>> inputs_;
  std::map<std::string, std::vector<std::string>, std::less<>> enums_;
  std::map<std::string, ScalarFn, std::less<>> scalars_;
  std::string query_;
  std::string mutation_;
};

struct ExecutionLimits {
  int max_depth = 10;         // nesting of fields below the operation (MLflow's default)
  int max_selections = 1000;  // fields in all selection sets, fragments expanded
  int max_root_fields = 10;   // fields of the operation's own selection set
  int max_aliases = 10;       // aliases in one selection set
};

// "runId" -> "run_id".
std::string SnakeCase(std::string_view camel);

// Validates `document` against `schema` and executes the chosen operation (`operation_name`,
// or the only one). Returns the response object: {"data": ...} plus "errors" (a list of
// {"message", "locations", "path"}) when anything failed. Request errors (syntax, validation,
// variables, limits) give "data": null; field errors give null at the field and keep the rest.
// Root fields run one after another (serially for mutations, as the spec requires).
boost::json::object Execute(const Schema& schema, std::string_view query,
                            std::optional<std::string_view> operation_name,
                            const boost::json::object& variables, ExecutionContext& context,
                            const ExecutionLimits& limits = {});

}  // namespace cairn::graphql
