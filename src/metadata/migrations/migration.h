#pragma once

#include <string_view>
#include <vector>

namespace cairn::metadata::migrations {

// One step of a store's schema history. Steps are applied in version order, each at most once,
// and recorded in the store's schema_version table. Append only: a released step is never
// edited; a change is a new step.
struct Migration {
  int version;                   // 1, 2, 3, ... without gaps
  std::string_view description;  // recorded with the version
  std::string_view sql;          // one or more statements, run inside the migration transaction
};

// The schema of the SQLite metadata store, oldest first.
const std::vector<Migration>& SqliteMigrations();

}  // namespace cairn::metadata::migrations
