#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metadata/eval_dataset_store.h"

// Backend-neutral rules of MLflow's evaluation datasets that every EvalDatasetStore applies: the
// digest, record merging, schema inference, and the JSON text MLflow's server writes.
namespace cairn::metadata::eval_datasets {

// The first 8 hex digits of SHA-256("<name>:<last_update_time_ms>"), as MLflow computes a
// dataset's digest.
std::string DatasetDigest(std::string_view name, int64_t last_update_time_ms);

// SHA-256 (hex) of the inputs serialized with sorted keys: equal inputs (whatever their key
// order) hash alike.
std::string InputHash(const boost::json::value& inputs);

// Python's json.dumps(value, sort_keys=sort_keys) (base/python_json.h).
std::string PythonJsonDumps(const boost::json::value& value, bool sort_keys = false);

// Merges an upsert into the stored record with the same inputs, as MLflow does: outputs are
// replaced when the upsert has them (null clears them), non-empty expectations and tags are
// merged key by key, the source is kept, last_update_time becomes `now_ms` and last_updated_by
// the upsert's user when it has one.
void MergeRecord(EvalDatasetRecord& stored, const EvalRecordUpsert& upsert, int64_t now_ms);

// The record an upsert inserts.
EvalDatasetRecord NewRecord(std::string_view dataset_id, const EvalRecordUpsert& upsert,
                            int64_t now_ms);

// The dataset schema after `records`: the stored schema (JSON text, or none) with a type name
// ("string", "integer", "float", "boolean", "array", "object", "null") for every input,
// output and expectation key it lacks; a non-object output sets "outputs" to its type when none
// is known yet. nullopt when there is neither a schema nor a record.
std::optional<std::string> UpdateSchema(const std::optional<std::string>& schema,
                                        const std::vector<EvalRecordUpsert>& records);

}  // namespace cairn::metadata::eval_datasets
