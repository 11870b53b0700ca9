#pragma once

#include <memory>
#include <string_view>

#include "base/factory_registry.h"
#include "base/uri.h"
#include "stream/event_stream.h"

namespace cairn::stream {

// Chooses an EventStream backend by URI scheme ("sqlite", later "kafka"). Backends are separate
// libraries, registered by explicit calls (RegisterSqliteEventStream) from the composition root.
using EventStreamRegistry = FactoryRegistry<std::unique_ptr<EventStream>, const Uri&>;

// Parses `uri_text` and creates the stream registered for its scheme; a bare path (no scheme)
// means "sqlite" (a file path, as `<data-dir>/events.db`). INVALID_ARGUMENT for a malformed URI
// or an unknown scheme; otherwise what the backend's factory returns.
StatusOr<std::unique_ptr<EventStream>> CreateEventStream(const EventStreamRegistry& registry,
                                                         std::string_view uri_text);

}  // namespace cairn::stream
