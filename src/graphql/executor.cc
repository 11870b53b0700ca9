#include "graphql/executor.h"

#include <charconv>
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "graphql/parser.h"

namespace cairn::graphql {
namespace bj = boost::json;

std::string SnakeCase(std::string_view camel) {
  std::string out;
  out.reserve(camel.size() + 4);
  for (char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      if (!out.empty()) out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

Schema::ObjectType& Schema::AddObject(std::string name) {
  ObjectType& type = objects_[name];
  type.name = std::move(name);
  return type;
}

void Schema::AddInput(std::string name, std::vector<InputField> fields) {
  for (InputField& f : fields) {
    if (f.key.empty()) f.key = SnakeCase(f.name);
  }
  inputs_[std::move(name)] = std::move(fields);
}

void Schema::AddEnum(std::string name, std::vector<std::string> values) {
  enums_[std::move(name)] = std::move(values);
}

void Schema::AddScalar(std::string name, ScalarFn serialize) {
  scalars_[std::move(name)] = std::move(serialize);
}

const Schema::ObjectType* Schema::Object(std::string_view name) const {
  auto it = objects_.find(name);
  return it == objects_.end() ? nullptr : &it->second;
}

const std::vector<InputField>* Schema::Input(std::string_view name) const {
  auto it = inputs_.find(name);
  return it == inputs_.end() ? nullptr : &it->second;
}

const std::vector<std::string>* Schema::Enum(std::string_view name) const {
  auto it = enums_.find(name);
  return it == enums_.end() ? nullptr : &it->second;
}

const Schema::ScalarFn* Schema::Scalar(std::string_view name) const {
  auto it = scalars_.find(name);
  return it == scalars_.end() ? nullptr : &it->second;
}

namespace {

bool IsBuiltinScalar(std::string_view name) {
  return name == "String" || name == "Int" || name == "Float" || name == "Boolean" || name == "ID";
}

bj::object LocationJson(Location l) { return bj::object{{"line", l.line}, {"column", l.column}}; }

std::string TypeString(const TypeName& t) { return t.list ? "[" + t.name + "!]" : t.name; }

std::string Describe(const bj::value& v) {
  std::string s = bj::serialize(v);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

// A field selected on one object type, fragments flattened, directives applied; selections of
// the same response key merged in first-seen order.
struct CollectedField {
  std::string key;
  std::vector<const Selection*> nodes;
};

class Execution {
 public:
  Execution(const Schema& schema, const Document& doc, const Operation& op,
            ExecutionContext& context, const ExecutionLimits& limits)
      : schema_(schema), doc_(doc), op_(op), context_(context), limits_(limits) {
    for (const Fragment& f : doc_.fragments) fragments_.emplace(f.name, &f);
  }

  // Request-level checks; false when the operation must not run (errors_ says why).
  bool Validate(const bj::object& variables) {
    root_ = op_.type == "mutation" ? schema_.Object(schema_.mutation_type())
                                   : schema_.Object(schema_.query_type());
    if (op_.type == "subscription" || root_ == nullptr) {
      AddError("Schema is not configured to execute " + op_.type + " operation.", op_.location);
      return false;
    }
    for (const Fragment& f : doc_.fragments) {
      if (std::count_if(doc_.fragments.begin(), doc_.fragments.end(),
                        [&](const Fragment& o) { return o.name == f.name; }) > 1) {
        AddError("There can be only one fragment named '" + f.name + "'.", f.location);
        return false;
      }
    }
    // Size limits first, as MLflow's query-safety scan runs before validation.
    CheckLimits();
    if (!errors_.empty()) return false;
    for (const VariableDefinition& v : op_.variables) defined_variables_.insert(v.name);
    for (const Directive& d : op_.directives) CheckDirective(d);
    std::vector<std::string> spreading;
    CheckSelections(*root_, op_.selections, 1, spreading);
    if (!errors_.empty()) return false;
    CoerceVariables(variables);
    return errors_.empty();
  }

  bj::value Run() {
    bj::array path;
    return ExecuteSelections(*root_, bj::object(), {&op_.selections}, path);
  }

  bj::array TakeErrors() { return std::move(errors_); }

 private:
  void AddError(std::string message, Location at, const bj::array* path = nullptr) {
    bj::object e{{"message", std::move(message)}, {"locations", bj::array{LocationJson(at)}}};
    if (path != nullptr) e["path"] = *path;
    errors_.push_back(std::move(e));
  }

  // ---- validation ----

  void CheckDirective(const Directive& d) {
    if (d.name != "skip" && d.name != "include" && d.name != "component") {
      AddError("Unknown directive '@" + d.name + "'.", d.location);
    }
    for (const Argument& a : d.arguments) CheckVariablesIn(a.value);
  }

  void CheckVariablesIn(const Value& v) {
    if (v.kind == Value::Kind::kVariable && !defined_variables_.contains(v.text)) {
      std::string op = op_.name.empty() ? "." : " by operation '" + op_.name + "'.";
      AddError("Variable '$" + v.text + "' is not defined" + op, v.location);
    }
    for (const Value& item : v.list) CheckVariablesIn(item);
    for (const auto& [name, field] : v.fields) CheckVariablesIn(field);
  }

  void CheckSelections(const Schema::ObjectType& type, const std::vector<Selection>& selections,
                       int depth, std::vector<std::string>& spreading) {
    for (const Selection& s : selections) {
      for (const Directive& d : s.directives) CheckDirective(d);
      if (s.kind == Selection::Kind::kField) {
        CheckField(type, s, depth, spreading);
        continue;
      }
      const std::vector<Selection>* inner = &s.selections;
      std::string condition = s.type_condition;
      if (s.kind == Selection::Kind::kFragmentSpread) {
        auto it = fragments_.find(s.name);
        if (it == fragments_.end()) {
          AddError("Unknown fragment '" + s.name + "'.", s.location);
          continue;
        }
        if (std::find(spreading.begin(), spreading.end(), s.name) != spreading.end()) {
          AddError("Cannot spread fragment '" + s.name + "' within itself.", s.location);
          continue;
        }
        condition = it->second->type_condition;
        inner = &it->second->selections;
      }
      if (!condition.empty() && condition != type.name) {
        if (schema_.Object(condition) == nullptr) {
          AddError("Unknown type '" + condition + "'.", s.location);
        } else {
          std::string what = s.kind == Selection::Kind::kFragmentSpread
                                 ? "Fragment '" + s.name + "'"
                                 : std::string("Fragment");
          AddError(what + " cannot be spread here as objects of type '" + type.name +
                       "' can never be of type '" + condition + "'.",
                   s.location);
        }
        continue;
      }
      if (s.kind == Selection::Kind::kFragmentSpread) spreading.push_back(s.name);
      CheckSelections(type, *inner, depth, spreading);
      if (s.kind == Selection::Kind::kFragmentSpread) spreading.pop_back();
    }
  }

  void CheckField(const Schema::ObjectType& type, const Selection& s, int depth,
                  std::vector<std::string>& spreading) {
    if (s.name == "__typename") {
      if (s.has_selection_set) {
        AddError(
            "Field '__typename' must not have a selection since type 'String!' has no "
            "subfields.",
            s.location);
      }
      return;
    }
    const Schema::Field* field = type.Find(s.name);
    if (field == nullptr) {
      AddError("Cannot query field '" + s.name + "' on type '" + type.name + "'.", s.location);
      return;
    }
    for (const Argument& a : s.arguments) {
      CheckVariablesIn(a.value);
      bool known = std::any_of(field->arguments.begin(), field->arguments.end(),
                               [&](const ArgumentDef& d) { return d.name == a.name; });
      if (!known) {
        AddError("Unknown argument '" + a.name + "' on field '" + type.name + "." + s.name + "'.",
                 a.location);
      }
    }
    const Schema::ObjectType* object = schema_.Object(field->type.name);
    if (object != nullptr && !s.has_selection_set) {
      AddError("Field '" + s.name + "' of type '" + TypeString(field->type) +
                   "' must have a selection of subfields. Did you mean '" + s.name + " { ... }'?",
               s.location);
    } else if (object == nullptr && s.has_selection_set) {
      AddError("Field '" + s.name + "' must not have a selection since type '" +
                   TypeString(field->type) + "' has no subfields.",
               s.location);
    } else if (object != nullptr) {
      CheckSelections(*object, s.selections, depth + 1, spreading);
    }
  }

  // MLflow's query-safety scan: depth, total selections, root fields, aliases per level.
  void CheckLimits() {
    int total = 0;
    int root_fields = 0;
    int max_aliases = 0;
    bool too_deep = false;
    std::function<void(const std::vector<Selection>&, int, std::set<std::string>)> walk =
        [&](const std::vector<Selection>& selections, int depth, std::set<std::string> visited) {
          if (depth > limits_.max_depth) {
            too_deep = true;
            return;
          }
          std::vector<const Selection*> fields;
          int aliases = 0;
          std::vector<const std::vector<Selection>*> queue{&selections};
          for (size_t i = 0; i < queue.size(); ++i) {
            for (const Selection& s : *queue[i]) {
              if (s.kind == Selection::Kind::kField) {
                fields.push_back(&s);
                if (!s.alias.empty()) ++aliases;
              } else if (s.kind == Selection::Kind::kInlineFragment) {
                queue.push_back(&s.selections);
              } else if (visited.insert(s.name).second) {
                auto it = fragments_.find(s.name);
                if (it != fragments_.end()) queue.push_back(&it->second->selections);
              }
            }
          }
          max_aliases = std::max(max_aliases, aliases);
          for (const Selection* f : fields) {
            if (depth == 1) ++root_fields;
            if (++total > limits_.max_selections || too_deep) return;
            if (f->has_selection_set) walk(f->selections, depth + 1, visited);
          }
        };
    walk(op_.selections, 1, {});
    if (too_deep) {
      AddError("Query exceeds maximum depth of " + std::to_string(limits_.max_depth), op_.location);
    } else if (total > limits_.max_selections) {
      AddError(
          "Query exceeds maximum total selections of " + std::to_string(limits_.max_selections),
          op_.location);
    } else if (root_fields > limits_.max_root_fields) {
      AddError("GraphQL queries should have at most " + std::to_string(limits_.max_root_fields) +
                   " root fields, got " + std::to_string(root_fields) + " root fields.",
               op_.location);
    } else if (max_aliases > limits_.max_aliases) {
      AddError("GraphQL queries should have at most " + std::to_string(limits_.max_aliases) +
                   " aliases, got " + std::to_string(max_aliases) + " aliases.",
               op_.location);
    }
  }

  // ---- input coercion ----

  // A variable's declared type as the coercion's TypeName; nested lists are refused.
  std::optional<TypeName> ToTypeName(const TypeRef& ref) const {
    if (ref.of.empty()) return TypeName{.name = ref.name};
    if (!ref.of.front().of.empty()) return std::nullopt;
    return TypeName{.name = ref.of.front().name, .list = true};
  }

  bool IsInputType(std::string_view name) const {
    return IsBuiltinScalar(name) || schema_.Scalar(name) != nullptr ||
           schema_.Enum(name) != nullptr || schema_.Input(name) != nullptr;
  }

  // Client-form JSON in, resolver-form JSON out (input object keys renamed, scalars parsed).
  StatusOr<bj::value> CoerceInput(const bj::value& in, const TypeName& type) const {
    if (in.is_null()) return bj::value(nullptr);
    if (type.list) {
      bj::array out;
      TypeName item{.name = type.name};
      if (!in.is_array()) {
        ASSIGN_OR_RETURN(bj::value one, CoerceInput(in, item));
        out.push_back(std::move(one));
        return bj::value(std::move(out));
      }
      for (const bj::value& v : in.as_array()) {
        if (v.is_null()) return InvalidArgument("Expected non-nullable type '" + type.name + "!'.");
        ASSIGN_OR_RETURN(bj::value c, CoerceInput(v, item));
        out.push_back(std::move(c));
      }
      return bj::value(std::move(out));
    }
    const std::string& n = type.name;
    if (n == "String" || n == "ID") {
      if (in.is_string()) return in;
      if (n == "ID" && in.is_int64()) return bj::value(std::to_string(in.as_int64()));
      return InvalidArgument(n + " cannot represent a non string value: " + Describe(in));
    }
    if (n == "Int") {
      if (in.is_int64() && in.as_int64() >= INT32_MIN && in.as_int64() <= INT32_MAX) return in;
      if (in.is_uint64() && in.as_uint64() <= INT32_MAX) return bj::value(in.to_number<int64_t>());
      return InvalidArgument("Int cannot represent non-integer value: " + Describe(in));
    }
    if (n == "Float") {
      if (in.is_number()) return bj::value(in.to_number<double>());
      return InvalidArgument("Float cannot represent non numeric value: " + Describe(in));
    }
    if (n == "Boolean") {
      if (in.is_bool()) return in;
      return InvalidArgument("Boolean cannot represent a non boolean value: " + Describe(in));
    }
    if (schema_.Scalar(n) != nullptr) {
      // Custom scalars (LongString) take an integer or its decimal text.
      if (in.is_int64() || in.is_uint64()) return in;
      if (in.is_string()) {
        int64_t v = 0;
        std::string_view s = in.as_string();
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc() && end == s.data() + s.size()) return bj::value(v);
      }
      return InvalidArgument("Expected value of type '" + n + "', found " + Describe(in) + ".");
    }
    if (const std::vector<std::string>* values = schema_.Enum(n)) {
      if (in.is_string() &&
          std::find(values->begin(), values->end(), in.as_string()) != values->end()) {
        return in;
      }
      return InvalidArgument("Value " + Describe(in) + " does not exist in '" + n + "' enum.");
    }
    if (const std::vector<InputField>* fields = schema_.Input(n)) {
      if (!in.is_object()) {
        return InvalidArgument("Expected type '" + n + "' to be an object.");
      }
      bj::object out;
      for (const auto& member : in.as_object()) {
        std::string_view key = member.key();
        const bj::value& value = member.value();
        auto f = std::find_if(fields->begin(), fields->end(),
                              [key](const InputField& i) { return i.name == key; });
        if (f == fields->end()) {
          return InvalidArgument("Field '" + std::string(key) + "' is not defined by type '" + n +
                                 "'.");
        }
        ASSIGN_OR_RETURN(bj::value c, CoerceInput(value, f->type));
        out[f->key] = std::move(c);
      }
      return bj::value(std::move(out));
    }
    return InvalidArgument("Unknown type '" + n + "'.");
  }

  // A literal (variables substituted) as client-form JSON.
  bj::value LiteralJson(const Value& v) const {
    switch (v.kind) {
      case Value::Kind::kVariable: {
        auto it = variables_.find(v.text);
        return it == variables_.end() ? bj::value(nullptr) : it->value();
      }
      case Value::Kind::kInt: {
        int64_t i = 0;
        auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), i);
        if (ec == std::errc()) return bj::value(i);
        return bj::value(std::strtod(v.text.c_str(), nullptr));
      }
      case Value::Kind::kFloat:
        return bj::value(std::strtod(v.text.c_str(), nullptr));
      case Value::Kind::kString:
      case Value::Kind::kEnum:
        return bj::value(v.text);
      case Value::Kind::kBoolean:
        return bj::value(v.boolean);
      case Value::Kind::kNull:
        return bj::value(nullptr);
      case Value::Kind::kList: {
        bj::array out;
        for (const Value& item : v.list) out.push_back(LiteralJson(item));
        return bj::value(std::move(out));
      }
      case Value::Kind::kObject: {
        bj::object out;
        for (const auto& [name, field] : v.fields) out[name] = LiteralJson(field);
        return bj::value(std::move(out));
      }
    }
    return bj::value(nullptr);
  }

  void CoerceVariables(const bj::object& provided) {
    for (const VariableDefinition& def : op_.variables) {
      std::optional<TypeName> type = ToTypeName(def.type);
      if (!type || !IsInputType(type->name)) {
        AddError(
            "Variable '$" + def.name + "' cannot be non-input type '" + def.type.ToString() + "'.",
            def.location);
        continue;
      }
      auto it = provided.find(def.name);
      bj::value value;
      if (it != provided.end()) {
        value = it->value();
      } else if (def.default_value) {
        value = LiteralJson(*def.default_value);
      } else if (def.type.non_null) {
        AddError("Variable '$" + def.name + "' of required type '" + def.type.ToString() +
                     "' was not provided.",
                 def.location);
        continue;
      } else {
        continue;
      }
      if (value.is_null() && def.type.non_null) {
        AddError("Variable '$" + def.name + "' of non-null type '" + def.type.ToString() +
                     "' must not be null.",
                 def.location);
        continue;
      }
      // Checked here so a bad value is a request error; arguments coerce it again in context.
      StatusOr<bj::value> coerced = CoerceInput(value, *type);
      if (!coerced.ok()) {
        AddError("Variable '$" + def.name + "' got invalid value " + Describe(value) + "; " +
                     std::string(coerced.status().message()),
                 def.location);
        continue;
      }
      variables_[def.name] = std::move(value);
    }
  }

  // ---- execution ----

  bool Included(const std::vector<Directive>& directives) const {
    for (const Directive& d : directives) {
      if (d.name != "skip" && d.name != "include") continue;
      for (const Argument& a : d.arguments) {
        if (a.name != "if") continue;
        bj::value v = LiteralJson(a.value);
        bool flag = v.is_bool() && v.as_bool();
        if (d.name == "skip" && flag) return false;
        if (d.name == "include" && !flag) return false;
      }
    }
    return true;
  }

  void Collect(const Schema::ObjectType& type, const std::vector<Selection>& selections,
               std::vector<CollectedField>& out, std::set<std::string>& visited) const {
    for (const Selection& s : selections) {
      if (!Included(s.directives)) continue;
      if (s.kind == Selection::Kind::kField) {
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const CollectedField& f) { return f.key == s.ResponseKey(); });
        if (it == out.end()) {
          out.push_back({s.ResponseKey(), {&s}});
        } else {
          it->nodes.push_back(&s);
        }
      } else if (s.kind == Selection::Kind::kInlineFragment) {
        Collect(type, s.selections, out, visited);
      } else if (visited.insert(s.name).second) {
        Collect(type, fragments_.at(s.name)->selections, out, visited);
      }
    }
  }

  bj::value ExecuteSelections(const Schema::ObjectType& type, const bj::object& parent,
                              const std::vector<const std::vector<Selection>*>& sets,
                              bj::array& path) {
    std::vector<CollectedField> fields;
    std::set<std::string> visited;
    for (const std::vector<Selection>* set : sets) Collect(type, *set, fields, visited);
    bj::object out;
    for (const CollectedField& f : fields) {
      const Selection& node = *f.nodes.front();
      path.emplace_back(f.key);
      if (node.name == "__typename") {
        out[f.key] = type.name;
      } else {
        out[f.key] = ExecuteField(*type.Find(node.name), parent, f.nodes, path);
      }
      path.pop_back();
    }
    return bj::value(std::move(out));
  }

  bj::value ExecuteField(const Schema::Field& field, const bj::object& parent,
                         const std::vector<const Selection*>& nodes, bj::array& path) {
    const Selection& node = *nodes.front();
    bj::value resolved;
    if (field.resolve) {
      bj::object args;
      for (const Argument& a : node.arguments) {
        const ArgumentDef& def =
            *std::find_if(field.arguments.begin(), field.arguments.end(),
                          [&](const ArgumentDef& d) { return d.name == a.name; });
        StatusOr<bj::value> coerced = CoerceInput(LiteralJson(a.value), def.type);
        if (!coerced.ok()) {
          AddError("Argument '" + a.name + "' has invalid value " + Describe(LiteralJson(a.value)) +
                       ". " + std::string(coerced.status().message()),
                   a.location, &path);
          return nullptr;
        }
        args[a.name] = std::move(coerced).value();
      }
      StatusOr<bj::value> value = field.resolve(context_, parent, args);
      if (!value.ok()) {
        AddError(std::string(value.status().message()), node.location, &path);
        return nullptr;
      }
      resolved = std::move(value).value();
    } else if (const bj::value* v = parent.if_contains(field.key)) {
      resolved = *v;
    } else if (field.absent) {
      resolved = *field.absent;
    }
    std::vector<const std::vector<Selection>*> sets;
    for (const Selection* n : nodes) sets.push_back(&n->selections);
    return Complete(field.type, resolved, sets, node, path);
  }

  bj::value Complete(const TypeName& type, const bj::value& value,
                     const std::vector<const std::vector<Selection>*>& sets, const Selection& node,
                     bj::array& path) {
    if (value.is_null()) return nullptr;
    if (type.list) {
      if (!value.is_array()) {
        AddError("Expected a list for field '" + node.name + "'.", node.location, &path);
        return nullptr;
      }
      bj::array out;
      TypeName item{.name = type.name};
      for (size_t i = 0; i < value.as_array().size(); ++i) {
        path.emplace_back(static_cast<int64_t>(i));
        out.push_back(Complete(item, value.as_array()[i], sets, node, path));
        path.pop_back();
      }
      return bj::value(std::move(out));
    }
    if (const Schema::ObjectType* object = schema_.Object(type.name)) {
      if (!value.is_object()) {
        AddError("Expected an object for field '" + node.name + "'.", node.location, &path);
        return nullptr;
      }
      return ExecuteSelections(*object, value.as_object(), sets, path);
    }
    return Serialize(type.name, value);
  }

  bj::value Serialize(const std::string& type, const bj::value& value) const {
    if (const Schema::ScalarFn* fn = schema_.Scalar(type)) {
      std::optional<bj::value> out = (*fn)(value);
      return out ? std::move(*out) : bj::value(nullptr);
    }
    if (type == "Float") {
      if (value.is_number()) {
        double d = value.to_number<double>();
        return std::isfinite(d) ? bj::value(d) : bj::value(nullptr);
      }
      return nullptr;  // "NaN" and the infinities have no GraphQL Float form
    }
    if (type == "Int") return value.is_number() ? value : bj::value(nullptr);
    if (type == "Boolean") return value.is_bool() ? value : bj::value(nullptr);
    if (value.is_string()) return value;  // String, ID and enums
    if (value.is_bool()) return bj::value(value.as_bool() ? "true" : "false");
    if (value.is_number()) return bj::value(bj::serialize(value));
    return nullptr;
  }

  const Schema& schema_;
  const Document& doc_;
  const Operation& op_;
  ExecutionContext& context_;
  const ExecutionLimits& limits_;
  const Schema::ObjectType* root_ = nullptr;
  std::map<std::string, const Fragment*> fragments_;
  std::set<std::string> defined_variables_;
  bj::object variables_;  // coerced-checked, client form
  bj::array errors_;
};

bj::object RequestError(std::string message, std::optional<Location> at = std::nullopt) {
  bj::object e{{"message", std::move(message)}};
  if (at) e["locations"] = bj::array{LocationJson(*at)};
  return bj::object{{"data", nullptr}, {"errors", bj::array{std::move(e)}}};
}

// "Syntax Error: ... (3:5)" -> message and location.
bj::object SyntaxErrorResponse(const Status& status) {
  std::string message(status.message());
  Location at;
  size_t open = message.rfind(" (");
  if (open != std::string::npos && message.back() == ')') {
    std::string_view where(message.data() + open + 2, message.size() - open - 3);
    size_t colon = where.find(':');
    if (colon != std::string_view::npos) {
      std::from_chars(where.data(), where.data() + colon, at.line);
      std::from_chars(where.data() + colon + 1, where.data() + where.size(), at.column);
      message.erase(open);
    }
  }
  return RequestError(std::move(message), at);
}

}  // namespace

bj::object Execute(const Schema& schema, std::string_view query,
                   std::optional<std::string_view> operation_name, const bj::object& variables,
                   ExecutionContext& context, const ExecutionLimits& limits) {
  StatusOr<Document> doc = Parse(query);
  if (!doc.ok()) return SyntaxErrorResponse(doc.status());
  const Operation* op = nullptr;
  if (operation_name && !operation_name->empty()) {
    for (const Operation& o : doc->operations) {
      if (o.name == *operation_name) op = &o;
    }
    if (op == nullptr)
      return RequestError("Unknown operation named '" + std::string(*operation_name) + "'.");
  } else if (doc->operations.size() == 1) {
    op = &doc->operations.front();
  } else if (doc->operations.empty()) {
    return RequestError("Must provide an operation.");
  } else {
    return RequestError("Must provide operation name if query contains multiple operations.");
  }
  Execution execution(schema, *doc, *op, context, limits);
  if (!execution.Validate(variables)) {
    return bj::object{{"data", nullptr}, {"errors", execution.TakeErrors()}};
  }
  bj::value data = execution.Run();
  bj::array errors = execution.TakeErrors();
  bj::object out{{"data", std::move(data)}};
  out["errors"] = errors.empty() ? bj::value(nullptr) : bj::value(std::move(errors));
  return out;
}

}  // namespace cairn::graphql
