#include "stream/event_stream_factory.h"

namespace cairn::stream {

StatusOr<std::unique_ptr<EventStream>> CreateEventStream(const EventStreamRegistry& registry,
                                                         std::string_view uri_text) {
  if (uri_text.empty()) return InvalidArgument("event stream URI is empty");
  ASSIGN_OR_RETURN(Uri uri, Uri::Parse(uri_text));
  return registry.Create(uri.scheme.empty() ? "sqlite" : uri.scheme, uri);
}

}  // namespace cairn::stream
