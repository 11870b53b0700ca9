#pragma once

#include <memory>

#include "metadata/metadata_stores.h"
#include "sql/sql.h"

namespace cairn::metadata {

// Every domain store on one SQL database (either engine); what each backend returns once it has
// opened and migrated its database.
MetadataStores MakeSqlMetadataStores(std::shared_ptr<sql::Database> db);

}  // namespace cairn::metadata
