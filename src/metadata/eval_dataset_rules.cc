#include "metadata/eval_dataset_rules.h"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include "base/python_json.h"

namespace cairn::metadata::eval_datasets {
namespace {

namespace bj = boost::json;

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

// Python's repr() of a float.
bj::value Parse(std::string_view text) {
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  return ec ? bj::value(bj::object()) : v;
}

// dict.update(): `update`'s keys replace or join `target`'s, in Python's order.
std::string UpdateObject(const std::optional<std::string>& target, const std::string& update) {
  bj::value base = target ? Parse(*target) : bj::value(bj::object());
  if (!base.is_object()) base = bj::object();
  bj::value add = Parse(update);
  if (add.is_object()) {
    for (const bj::key_value_pair& kv : add.get_object()) base.get_object()[kv.key()] = kv.value();
  }
  return PythonJsonDumps(base);
}

bool NonEmptyObject(const std::optional<std::string>& text) {
  if (!text) return false;
  bj::value v = Parse(*text);
  return v.is_object() && !v.get_object().empty();
}

std::string_view TypeName(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null:
      return "null";
    case bj::kind::bool_:
      return "boolean";
    case bj::kind::int64:
    case bj::kind::uint64:
      return "integer";
    case bj::kind::double_:
      return "float";
    case bj::kind::string:
      return "string";
    case bj::kind::array:
      return "array";
    case bj::kind::object:
      return "object";
  }
  return "unknown";
}

bool Truthy(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null:
      return false;
    case bj::kind::bool_:
      return v.get_bool();
    case bj::kind::int64:
      return v.get_int64() != 0;
    case bj::kind::uint64:
      return v.get_uint64() != 0;
    case bj::kind::double_:
      return v.get_double() != 0;
    case bj::kind::string:
      return !v.get_string().empty();
    case bj::kind::array:
      return !v.get_array().empty();
    case bj::kind::object:
      return !v.get_object().empty();
  }
  return false;
}

void AddKeyTypes(bj::object& section, const bj::value& values) {
  if (!values.is_object()) return;
  for (const bj::key_value_pair& kv : values.get_object()) {
    if (!section.contains(kv.key())) section[kv.key()] = TypeName(kv.value());
  }
}

}  // namespace

std::string DatasetDigest(std::string_view name, int64_t last_update_time_ms) {
  return Sha256Hex(std::string(name) + ":" + std::to_string(last_update_time_ms)).substr(0, 8);
}

std::string InputHash(const bj::value& inputs) {
  return Sha256Hex(PythonJsonDumps(inputs, /*sort_keys=*/true));
}

std::string PythonJsonDumps(const bj::value& value, bool sort_keys) {
  return json::PythonJsonDumps(value, {.sort_keys = sort_keys});
}

void MergeRecord(EvalDatasetRecord& stored, const EvalRecordUpsert& upsert, int64_t now_ms) {
  if (upsert.has_outputs) stored.outputs = upsert.outputs;
  if (NonEmptyObject(upsert.expectations)) {
    stored.expectations = UpdateObject(stored.expectations, *upsert.expectations);
  }
  if (NonEmptyObject(upsert.tags)) stored.tags = UpdateObject(stored.tags, *upsert.tags);
  stored.last_update_time_ms = now_ms;
  if (upsert.user) stored.last_updated_by = upsert.user;
}

EvalDatasetRecord NewRecord(std::string_view dataset_id, const EvalRecordUpsert& upsert,
                            int64_t now_ms) {
  EvalDatasetRecord r;
  r.id = upsert.new_record_id;
  r.dataset_id = std::string(dataset_id);
  r.inputs = upsert.inputs;
  // MLflow stores {} for a record given without outputs, and nothing for explicit null.
  r.outputs = upsert.has_outputs ? upsert.outputs : std::optional<std::string>("{}");
  r.expectations = upsert.expectations;
  r.tags = upsert.tags.value_or("{}");
  r.source = upsert.source;
  r.source_id = upsert.source_id;
  r.source_type = upsert.source_type;
  r.created_time_ms = now_ms;
  r.last_update_time_ms = now_ms;
  r.created_by = upsert.user;
  r.last_updated_by = upsert.user;
  return r;
}

std::optional<std::string> UpdateSchema(const std::optional<std::string>& schema,
                                        const std::vector<EvalRecordUpsert>& records) {
  if (records.empty() && !schema) return std::nullopt;
  bj::value parsed = schema ? Parse(*schema) : bj::value();
  if (!parsed.is_object()) {
    parsed = bj::object{{"inputs", bj::object()},
                        {"outputs", bj::object()},
                        {"expectations", bj::object()},
                        {"version", "1.0"}};
  }
  bj::object& s = parsed.get_object();
  for (const char* section : {"inputs", "outputs", "expectations"}) {
    if (!s.contains(section)) s[section] = bj::object();
  }
  for (const EvalRecordUpsert& r : records) {
    bj::value inputs = Parse(r.inputs);
    if (Truthy(inputs) && s["inputs"].is_object()) AddKeyTypes(s["inputs"].get_object(), inputs);
    if (r.has_outputs && r.outputs) {
      bj::value outputs = Parse(*r.outputs);
      bj::value& known = s["outputs"];
      if (outputs.is_object()) {
        if (known.is_object()) AddKeyTypes(known.get_object(), outputs);
      } else if (!Truthy(known)) {
        known = TypeName(outputs);
      }
    }
    if (r.expectations) {
      bj::value expectations = Parse(*r.expectations);
      if (Truthy(expectations) && s["expectations"].is_object()) {
        AddKeyTypes(s["expectations"].get_object(), expectations);
      }
    }
  }
  return PythonJsonDumps(parsed);
}

}  // namespace cairn::metadata::eval_datasets
