#include "runtime/python/frame.h"

#include <boost/json.hpp>
#include <cstring>
#include <limits>
#include <utility>

#include "base/json.h"
#include "base/logging.h"

namespace cairn::runtime::python {
namespace {

void PutLe(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

uint64_t GetLe(const char* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return value;
}

void AppendString(std::string& out, std::string_view text) {
  out += '"';
  out += JsonEscape(text);
  out += '"';
}

// Appends the tensors' specs as a JSON array to `header` and their data to `frame.payload`.
Status AppendTensors(const std::vector<Tensor>& tensors, std::string& header,
                     OutgoingFrame& frame) {
  header += "[";
  frame.owned.reserve(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    int64_t count = t.ElementCount();
    if (count < 0) {
      return InvalidArgument("tensor '" + t.name + "' has a negative dimension");
    }
    std::span<const std::byte> bytes;
    if (t.type == DataType::kBytes) {
      if (static_cast<int64_t>(t.strings.size()) != count) {
        return InvalidArgument("tensor '" + t.name + "' has " + std::to_string(t.strings.size()) +
                               " strings for " + std::to_string(count) + " elements");
      }
      std::size_t size = 4 * t.strings.size();
      for (const std::string& s : t.strings) size += s.size();
      std::vector<std::byte>& out = frame.owned.emplace_back(size);
      std::byte* p = out.data();
      for (const std::string& s : t.strings) {
        if (s.size() > std::numeric_limits<uint32_t>::max()) {
          return InvalidArgument("an element of tensor '" + t.name + "' is over 4 GiB");
        }
        for (int b = 0; b < 4; ++b) *p++ = static_cast<std::byte>((s.size() >> (8 * b)) & 0xff);
        std::memcpy(p, s.data(), s.size());
        p += s.size();
      }
      bytes = out;
    } else {
      if (t.type == DataType::kBf16) {
        return InvalidArgument("tensor '" + t.name + "' is BF16, which numpy cannot hold");
      }
      if (static_cast<int64_t>(t.data.size()) !=
          count * static_cast<int64_t>(ElementSize(t.type))) {
        return InvalidArgument("tensor '" + t.name + "' has " + std::to_string(t.data.size()) +
                               " bytes for " + std::to_string(count) + " elements of " +
                               std::string(DataTypeName(t.type)));
      }
      bytes = t.data;
    }
    if (i > 0) header += ',';
    header += "{\"name\":";
    AppendString(header, t.name);
    header += ",\"datatype\":\"";
    header += DataTypeName(t.type);
    header += "\",\"shape\":[";
    for (std::size_t d = 0; d < t.shape.size(); ++d) {
      if (d > 0) header += ',';
      header += std::to_string(t.shape[d]);
    }
    header += "],\"size\":";
    header += std::to_string(bytes.size());
    header += '}';
    if (!bytes.empty()) frame.payload.push_back(bytes);
  }
  header += "]";
  return Status::Ok();
}

void Seal(OutgoingFrame& frame, std::string_view header) {
  frame.head.clear();
  frame.head.reserve(kFramePrefixBytes + header.size());
  PutLe(frame.head, header.size(), 4);
  PutLe(frame.head, frame.PayloadBytes(), 8);
  frame.head += header;
}

// Splits a BYTES payload of `count` elements.
Status SplitStrings(std::span<const std::byte> data, int64_t count, const std::string& name,
                    std::vector<std::string>& out) {
  out.reserve(static_cast<std::size_t>(count));
  const char* p = reinterpret_cast<const char*>(data.data());
  std::size_t left = data.size();
  for (int64_t i = 0; i < count; ++i) {
    if (left < 4) return InvalidArgument("BYTES tensor '" + name + "' is truncated");
    uint64_t n = GetLe(p, 4);
    p += 4;
    left -= 4;
    if (left < n) return InvalidArgument("BYTES tensor '" + name + "' is truncated");
    out.emplace_back(p, n);
    p += n;
    left -= n;
  }
  if (left != 0) return InvalidArgument("BYTES tensor '" + name + "' has trailing bytes");
  return Status::Ok();
}

StatusOr<std::vector<Tensor>> ParseTensors(const boost::json::array& specs,
                                           std::span<const std::byte> payload) {
  std::vector<Tensor> tensors;
  tensors.reserve(specs.size());
  std::size_t offset = 0;
  for (const boost::json::value& v : specs) {
    if (!v.is_object()) return InvalidArgument("a tensor spec is not an object");
    const boost::json::object& spec = v.get_object();
    Tensor t;
    ASSIGN_OR_RETURN(std::optional<std::string> name, json::GetString(spec, "name"));
    ASSIGN_OR_RETURN(std::optional<std::string> datatype, json::GetString(spec, "datatype"));
    ASSIGN_OR_RETURN(std::optional<int64_t> size, json::GetInt64(spec, "size"));
    ASSIGN_OR_RETURN(const boost::json::array* shape, json::GetArray(spec, "shape"));
    if (!name || !datatype || !size || !shape) {
      return InvalidArgument("a tensor spec lacks name, datatype, shape or size");
    }
    t.name = std::move(*name);
    std::optional<DataType> type = ParseDataType(*datatype);
    if (!type) return InvalidArgument("tensor '" + t.name + "' has datatype " + *datatype);
    t.type = *type;
    for (const boost::json::value& d : *shape) {
      ASSIGN_OR_RETURN(int64_t dim, json::AsInt64(d, "shape"));
      if (dim < 0) return InvalidArgument("tensor '" + t.name + "' has a negative dimension");
      t.shape.push_back(dim);
    }
    if (*size < 0 || static_cast<uint64_t>(*size) > payload.size() - offset) {
      return InvalidArgument("tensor '" + t.name + "' runs past the end of the frame");
    }
    std::span<const std::byte> data = payload.subspan(offset, static_cast<std::size_t>(*size));
    offset += data.size();
    int64_t count = t.ElementCount();
    if (t.type == DataType::kBytes) {
      RETURN_IF_ERROR(SplitStrings(data, count, t.name, t.strings));
    } else {
      if (static_cast<int64_t>(data.size()) != count * static_cast<int64_t>(ElementSize(t.type))) {
        return InvalidArgument("tensor '" + t.name + "' has " + std::to_string(data.size()) +
                               " bytes for its shape");
      }
      t.data.assign(data.begin(), data.end());
    }
    tensors.push_back(std::move(t));
  }
  if (offset != payload.size()) return InvalidArgument("the frame has bytes after its tensors");
  return tensors;
}

}  // namespace

uint64_t OutgoingFrame::PayloadBytes() const {
  uint64_t total = 0;
  for (std::span<const std::byte> piece : payload) total += piece.size();
  return total;
}

std::string OutgoingFrame::Flatten() const {
  std::string flat = head;
  flat.reserve(head.size() + PayloadBytes());
  for (std::span<const std::byte> piece : payload) {
    flat.append(reinterpret_cast<const char*>(piece.data()), piece.size());
  }
  return flat;
}

OutgoingFrame LoadFrame(uint64_t id, const std::filesystem::path& model_dir) {
  std::string header = "{\"op\":\"load\",\"id\":" + std::to_string(id) + ",\"path\":";
  AppendString(header, model_dir.string());
  header += '}';
  OutgoingFrame frame;
  Seal(frame, header);
  return frame;
}

StatusOr<OutgoingFrame> PredictFrame(uint64_t id, const PredictRequest& request) {
  std::string header = "{\"op\":\"predict\",\"id\":" + std::to_string(id) + ",\"columnar\":";
  header += request.columnar ? "true" : "false";
  header += ",\"params\":";
  if (request.params_json.empty()) {
    header += "null";
  } else {
    // The worker would fail on a header it cannot parse; refuse a bad one here.
    boost::system::error_code ec;
    boost::json::value params = boost::json::parse(request.params_json, ec);
    if (ec || !params.is_object()) return InvalidArgument("params must be a JSON object");
    header += request.params_json;
  }
  header += ",\"tensors\":";
  OutgoingFrame frame;
  RETURN_IF_ERROR(AppendTensors(request.inputs, header, frame));
  header += '}';
  Seal(frame, header);
  return frame;
}

OutgoingFrame ResultFrameForTest(uint64_t id, const PredictResponse& response) {
  std::string header = "{\"op\":\"result\",\"id\":" + std::to_string(id) + ",\"columnar\":";
  header += response.columnar ? "true" : "false";
  header += ",\"tensors\":";
  OutgoingFrame frame;
  AppendTensors(response.outputs, header, frame).IgnoreError();
  header += '}';
  Seal(frame, header);
  return frame;
}

StatusOr<IncomingFrame> SplitFrame(std::string_view flat) {
  if (flat.size() < kFramePrefixBytes) return InvalidArgument("frame shorter than its prefix");
  uint64_t header_len = GetLe(flat.data(), 4);
  uint64_t payload_len = GetLe(flat.data() + 4, 8);
  if (flat.size() - kFramePrefixBytes != header_len + payload_len) {
    return InvalidArgument("frame length does not match its prefix");
  }
  IncomingFrame frame;
  frame.header.assign(flat.substr(kFramePrefixBytes, header_len));
  const auto* payload =
      reinterpret_cast<const std::byte*>(flat.data() + kFramePrefixBytes + header_len);
  frame.payload.assign(payload, payload + payload_len);
  return frame;
}

StatusOr<Reply> ParseReply(IncomingFrame frame) {
  ASSIGN_OR_RETURN(boost::json::object header, json::ParseObject(frame.header));
  Reply reply;
  ASSIGN_OR_RETURN(std::optional<std::string> op, json::GetString(header, "op"));
  if (!op) return InvalidArgument("worker frame has no op");
  reply.op = std::move(*op);
  ASSIGN_OR_RETURN(std::optional<int64_t> id, json::GetInt64(header, "id"));
  reply.id = id.value_or(0) < 0 ? 0 : static_cast<uint64_t>(id.value_or(0));
  if (reply.op == "error") {
    ASSIGN_OR_RETURN(std::optional<std::string> kind, json::GetString(header, "kind"));
    ASSIGN_OR_RETURN(std::optional<std::string> message, json::GetString(header, "message"));
    reply.error_kind = kind.value_or("model");
    reply.error_message = message.value_or("the worker gave no message");
  } else if (reply.op == "result") {
    ASSIGN_OR_RETURN(std::optional<bool> columnar, json::GetBool(header, "columnar"));
    reply.response.columnar = columnar.value_or(false);
    ASSIGN_OR_RETURN(const boost::json::array* tensors, json::GetArray(header, "tensors"));
    if (tensors == nullptr) return InvalidArgument("result frame has no tensors");
    ASSIGN_OR_RETURN(reply.response.outputs, ParseTensors(*tensors, frame.payload));
  }
  reply.header = std::move(frame.header);
  return reply;
}

}  // namespace cairn::runtime::python
