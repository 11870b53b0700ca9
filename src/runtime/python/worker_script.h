#pragma once

#include <string_view>

namespace cairn::runtime::python {

// The source of worker.py, compiled into the binary (see embed_text.cmake), so an installed
// server needs no file beside it.
std::string_view WorkerScript();

}  // namespace cairn::runtime::python
