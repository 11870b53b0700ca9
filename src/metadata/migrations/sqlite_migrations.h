#pragma once

#include <vector>

#include "sqlite/migrator.h"

namespace cairn::metadata::migrations {

// The schema of the SQLite metadata database (meta.db), oldest first.
const std::vector<sqlite::Migration>& SqliteMigrations();

}  // namespace cairn::metadata::migrations
