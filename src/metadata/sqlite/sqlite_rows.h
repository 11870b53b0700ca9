#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "metadata/sqlite/sqlite_db.h"
#include "metadata/types.h"

// Lookups shared by the SQLite store's translation units (defined in sqlite_metadata_store.cc).
// Internal to cairn_metadata_sqlite.
namespace cairn::metadata::sqlite {

// Experiment ids are decimal strings of non-negative integers; nullopt for anything else.
std::optional<int64_t> ExperimentIdFromText(std::string_view text);

// The experiment, or NOT_FOUND "No Experiment with id=X exists"; INVALID_ARGUMENT "... must be
// in the 'active' state ..." when it is deleted.
StatusOr<Experiment> ActiveExperiment(Connection& db, std::string_view tenant,
                                      std::string_view experiment_id);

}  // namespace cairn::metadata::sqlite
