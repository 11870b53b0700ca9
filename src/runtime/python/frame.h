#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/model_runtime.h"

namespace cairn::runtime::python {

// The messages between the server and a Python worker (worker.py states the same format).
//
// A frame is `u32 header_len | u64 payload_len | header | payload`, integers little-endian. The
// header is a small JSON object: the operation, the request id, and for tensors their specs in
// payload order, {"name", "datatype" (V2 spelling), "shape", "size" (bytes)}. The payload is the
// tensors back to back: fixed-size types as their raw little-endian elements (numpy.frombuffer
// reads them without a per-element step), BYTES as a u32 length then the bytes, per element (as
// Triton's binary tensor extension).

inline constexpr std::size_t kFramePrefixBytes = 12;
// Headers carry names, shapes and params, never tensor data.
inline constexpr uint32_t kMaxHeaderBytes = 16u << 20;

// A frame ready to write: `head` is the prefix and header; `payload` the pieces in order. Pieces
// may point into the tensors of the request it was made from, which must outlive it.
struct OutgoingFrame {
  std::string head;
  std::vector<std::span<const std::byte>> payload;
  // Encoded BYTES tensors, which `payload` points into.
  std::vector<std::vector<std::byte>> owned;

  uint64_t PayloadBytes() const;
  // The whole frame in one buffer (tests, benchmarks).
  std::string Flatten() const;
};

// A frame as read: the header text and the payload.
struct IncomingFrame {
  std::string header;
  std::vector<std::byte> payload;
};

// {"op": "load", "id", "path"}.
OutgoingFrame LoadFrame(uint64_t id, const std::filesystem::path& model_dir);
// {"op": "predict", "id", "columnar", "params", "tensors"}. InvalidArgument when a tensor's data
// does not match its type and shape, the type has no numpy equivalent (BF16), or params_json is
// not a JSON object.
StatusOr<OutgoingFrame> PredictFrame(uint64_t id, const PredictRequest& request);

// What a worker answered.
struct Reply {
  // "ready", "loaded", "result", "error" or "pong".
  std::string op;
  uint64_t id = 0;
  // op "error": "input" (the request does not fit the model), "model" or "load".
  std::string error_kind;
  std::string error_message;
  // op "result".
  PredictResponse response;
  // The header as sent, for logs ("ready" carries the pid and versions).
  std::string header;
};

// Parses a frame from a worker. InvalidArgument names what is malformed (a protocol error: the
// caller should stop trusting that worker).
StatusOr<Reply> ParseReply(IncomingFrame frame);

// The inverse pair, for tests and benchmarks: a worker's answer with these tensors.
OutgoingFrame ResultFrameForTest(uint64_t id, const PredictResponse& response);
// Splits a flat frame into header and payload.
StatusOr<IncomingFrame> SplitFrame(std::string_view flat);

}  // namespace cairn::runtime::python
