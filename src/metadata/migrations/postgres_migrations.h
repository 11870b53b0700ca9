#pragma once

#include <vector>

#include "pg/database.h"

namespace cairn::metadata::migrations {

// The schema of the PostgreSQL metadata database, oldest first: the same tables as
// SqliteMigrations() in PostgreSQL's dialect.
const std::vector<pg::Migration>& PostgresMigrations();

}  // namespace cairn::metadata::migrations
