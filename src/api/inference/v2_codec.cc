#include "api/inference/v2_codec.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "api/inference/json_input.h"

namespace cairn::inference {
namespace {

namespace od = simdjson::ondemand;
using runtime::DataType;
using runtime::Tensor;
using runtime::TensorSpec;

constexpr size_t kMaxRank = 32;

std::string InputError(std::string_view name, std::string_view what) {
  std::string msg = "input '";
  msg.append(name).append("': ").append(what);
  return msg;
}

const TensorSpec* FindSpec(const std::vector<TensorSpec>& specs, std::string_view name) {
  for (const TensorSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string NameList(const std::vector<TensorSpec>& specs) {
  std::string out;
  for (const TensorSpec& spec : specs) {
    if (!out.empty()) out.append(", ");
    out.append("'").append(spec.name).append("'");
  }
  return out;
}

// Writes one JSON element into a tensor whose buffer is presized to the element count.
class DataReader {
 public:
  DataReader(Tensor& tensor, int64_t expected, size_t max_depth)
      : tensor_(tensor), expected_(expected), max_depth_(max_depth) {}

  // `value` is the `data` member: an array nested up to the rank, or a lone scalar.
  Status Read(od::value value, size_t depth) {
    od::json_type type;
    if (auto error = value.type().get(type)) return internal::MalformedJson(error);
    if (type == od::json_type::array) {
      if (depth >= max_depth_) {
        return InvalidArgument(InputError(tensor_.name, "data is nested deeper than its shape " +
                                                            internal::ShapeText(tensor_.shape)));
      }
      od::array array;
      if (auto error = value.get_array().get(array)) return internal::MalformedJson(error);
      for (auto element : array) {
        od::value child;
        if (auto error = element.get(child)) return internal::MalformedJson(error);
        RETURN_IF_ERROR(Read(child, depth + 1));
      }
      return Status::Ok();
    }
    if (count_ >= expected_) return CountError();
    RETURN_IF_ERROR(Element(value, type));
    ++count_;
    return Status::Ok();
  }

  Status Finish() {
    if (count_ != expected_) return CountError();
    return Status::Ok();
  }

 private:
  Status CountError() {
    return InvalidArgument(
        InputError(tensor_.name, "shape " + internal::ShapeText(tensor_.shape) + " has " +
                                     std::to_string(expected_) + " elements but data holds " +
                                     (count_ >= expected_ ? "more" : std::to_string(count_))));
  }

  Status ElementError(od::value& value, std::string_view what) {
    return InvalidArgument(InputError(tensor_.name, "element " + std::to_string(count_) + " (" +
                                                        internal::Quote(value) + ") " +
                                                        std::string(what)));
  }

  template <typename T>
  void Store(T v) {
    std::memcpy(tensor_.data.data() + static_cast<size_t>(count_) * sizeof(T), &v, sizeof(T));
  }

  template <typename T>
  Status Signed(od::value& value) {
    int64_t v = 0;
    if (value.get_int64().get(v) != simdjson::SUCCESS) return IntegerError<T>(value);
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
      return RangeError(value);
    }
    Store(static_cast<T>(v));
    return Status::Ok();
  }

  template <typename T>
  Status Unsigned(od::value& value) {
    uint64_t v = 0;
    if (value.get_uint64().get(v) != simdjson::SUCCESS) return IntegerError<T>(value);
    if (v > std::numeric_limits<T>::max()) return RangeError(value);
    Store(static_cast<T>(v));
    return Status::Ok();
  }

  template <typename T>
  Status IntegerError(od::value& value) {
    od::number_type kind;
    if (value.get_number_type().get(kind) != simdjson::SUCCESS) {
      return ElementError(value, "is not a number");
    }
    if (kind == od::number_type::floating_point_number) {
      return ElementError(value, "is not an integer");
    }
    return RangeError(value);
  }

  Status RangeError(od::value& value) {
    return ElementError(value,
                        "is out of range for " + std::string(runtime::DataTypeName(tensor_.type)));
  }

  Status Element(od::value& value, od::json_type type) {
    if (tensor_.type == DataType::kBytes) {
      std::string_view s;
      if (type != od::json_type::string || value.get_string().get(s)) {
        return ElementError(value, "is not a string");
      }
      tensor_.strings.emplace_back(s);
      return Status::Ok();
    }
    if (tensor_.type == DataType::kBool) {
      bool b = false;
      if (type != od::json_type::boolean || value.get_bool().get(b)) {
        return ElementError(value, "is not true or false");
      }
      Store<uint8_t>(b ? 1 : 0);
      return Status::Ok();
    }
    if (type != od::json_type::number) return ElementError(value, "is not a number");
    switch (tensor_.type) {
      case DataType::kUint8:
        return Unsigned<uint8_t>(value);
      case DataType::kUint16:
        return Unsigned<uint16_t>(value);
      case DataType::kUint32:
        return Unsigned<uint32_t>(value);
      case DataType::kUint64:
        return Unsigned<uint64_t>(value);
      case DataType::kInt8:
        return Signed<int8_t>(value);
      case DataType::kInt16:
        return Signed<int16_t>(value);
      case DataType::kInt32:
        return Signed<int32_t>(value);
      case DataType::kInt64:
        return Signed<int64_t>(value);
      case DataType::kFp32: {
        double d = 0;
        if (value.get_double().get(d) || std::abs(d) > std::numeric_limits<float>::max()) {
          return RangeError(value);
        }
        Store(static_cast<float>(d));
        return Status::Ok();
      }
      case DataType::kFp64: {
        double d = 0;
        if (value.get_double().get(d)) return RangeError(value);
        Store(d);
        return Status::Ok();
      }
      default:
        return ElementError(value, "cannot be read");
    }
  }

  Tensor& tensor_;
  int64_t expected_;
  size_t max_depth_;
  int64_t count_ = 0;
};

// One `inputs` entry while it is being read.
struct InputHeader {
  bool has_name = false;
  bool has_type = false;
  bool has_shape = false;
  bool has_data = false;
  std::optional<int64_t> binary_size;
};

Status ReadShape(od::value value, Tensor& tensor) {
  od::array array;
  if (value.get_array().get(array)) {
    return InvalidArgument(InputError(tensor.name, "shape must be an array of integers"));
  }
  tensor.shape.clear();
  for (auto element : array) {
    int64_t dim = 0;
    if (element.get_int64().get(dim) || dim < 0) {
      return InvalidArgument(
          InputError(tensor.name, "shape must be an array of non-negative integers"));
    }
    if (tensor.shape.size() == kMaxRank) {
      return InvalidArgument(InputError(tensor.name, "shape has more than 32 dimensions"));
    }
    tensor.shape.push_back(dim);
  }
  return Status::Ok();
}

// Element count of `shape`, or nullopt when it exceeds `limit` (or overflows).
std::optional<int64_t> CountAtMost(const std::vector<int64_t>& shape, int64_t limit) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim == 0) return 0;
  }
  for (int64_t dim : shape) {
    if (dim > limit || count > limit / dim) return std::nullopt;
    count *= dim;
  }
  return count;
}

Status CheckAgainstSpec(const Tensor& tensor, const TensorSpec& spec) {
  if (tensor.type != spec.type) {
    return InvalidArgument(InputError(
        tensor.name, "unexpected datatype " + std::string(runtime::DataTypeName(tensor.type)) +
                         ", the model expects " + std::string(runtime::DataTypeName(spec.type))));
  }
  bool fits = tensor.shape.size() == spec.shape.size();
  for (size_t i = 0; fits && i < spec.shape.size(); ++i) {
    fits = spec.shape[i] < 0 || spec.shape[i] == tensor.shape[i];
  }
  if (!fits) {
    return InvalidArgument(
        InputError(tensor.name, "unexpected shape " + internal::ShapeText(tensor.shape) +
                                    ", the model expects " + internal::ShapeText(spec.shape)));
  }
  return Status::Ok();
}

// Reads a binary tensor of `size` bytes from the front of `binary`.
Status ReadBinary(Tensor& tensor, int64_t count, int64_t size, std::string_view& binary) {
  if (size < 0 || static_cast<uint64_t>(size) > binary.size()) {
    return InvalidArgument(
        InputError(tensor.name, "binary_data_size " + std::to_string(size) + " exceeds the " +
                                    std::to_string(binary.size()) + " bytes of binary data left"));
  }
  std::string_view bytes = binary.substr(0, static_cast<size_t>(size));
  binary.remove_prefix(static_cast<size_t>(size));
  if (tensor.type == DataType::kBytes) {
    tensor.strings.reserve(static_cast<size_t>(count));
    while (!bytes.empty()) {
      uint32_t len = 0;
      if (bytes.size() < 4) {
        return InvalidArgument(InputError(tensor.name, "binary BYTES element is truncated"));
      }
      std::memcpy(&len, bytes.data(), 4);  // little-endian hosts only (x86-64, arm64)
      bytes.remove_prefix(4);
      if (len > bytes.size()) {
        return InvalidArgument(InputError(tensor.name, "binary BYTES element is truncated"));
      }
      if (static_cast<int64_t>(tensor.strings.size()) == count) break;
      tensor.strings.emplace_back(bytes.substr(0, len));
      bytes.remove_prefix(len);
    }
    if (static_cast<int64_t>(tensor.strings.size()) != count || !bytes.empty()) {
      return InvalidArgument(InputError(
          tensor.name, "binary data does not hold exactly " + std::to_string(count) +
                           " BYTES elements for shape " + internal::ShapeText(tensor.shape)));
    }
    return Status::Ok();
  }
  const int64_t expected = count * static_cast<int64_t>(runtime::ElementSize(tensor.type));
  if (size != expected) {
    return InvalidArgument(
        InputError(tensor.name, "binary_data_size is " + std::to_string(size) + " but shape " +
                                    internal::ShapeText(tensor.shape) + " of " +
                                    std::string(runtime::DataTypeName(tensor.type)) + " needs " +
                                    std::to_string(expected) + " bytes"));
  }
  tensor.data.resize(bytes.size());
  std::memcpy(tensor.data.data(), bytes.data(), bytes.size());
  if (tensor.type == DataType::kBool) {
    for (std::byte& b : tensor.data) b = b == std::byte{0} ? std::byte{0} : std::byte{1};
  }
  return Status::Ok();
}

class RequestParser {
 public:
  RequestParser(const runtime::ModelInterface& model, std::string_view binary, size_t json_size)
      : model_(model), binary_(binary), json_size_(json_size), has_binary_section_(true) {}

  void set_no_binary_section() { has_binary_section_ = false; }

  Status Parse(od::document& doc, V2Request& out) {
    od::object root;
    if (auto error = doc.get_object().get(root)) {
      if (error == simdjson::INCORRECT_TYPE) {
        return InvalidArgument("Inference request body must be a JSON object");
      }
      return internal::MalformedJson(error);
    }
    bool has_inputs = false;
    for (auto field : root) {
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return internal::MalformedJson(error);
      od::value value;
      if (auto error = field.value().get(value)) return internal::MalformedJson(error);
      if (key == "id") {
        std::string_view id;
        if (value.get_string().get(id)) return InvalidArgument("'id' must be a string");
        out.id = id;
      } else if (key == "parameters") {
        RETURN_IF_ERROR(ReadRequestParameters(value, out));
      } else if (key == "inputs") {
        has_inputs = true;
        RETURN_IF_ERROR(ReadInputs(value, out.predict.inputs));
      } else if (key == "outputs") {
        RETURN_IF_ERROR(ReadOutputs(value, out));
      }
    }
    RETURN_IF_ERROR(internal::CheckConsumed(doc));
    if (!has_inputs) return InvalidArgument("Inference request must have 'inputs'");
    for (const TensorSpec& spec : model_.inputs) {
      if (spec.optional) continue;
      bool found = false;
      for (const Tensor& t : out.predict.inputs) found = found || t.name == spec.name;
      if (!found) {
        return InvalidArgument("missing input '" + spec.name + "'; the model expects " +
                               NameList(model_.inputs));
      }
    }
    if (!binary_.empty()) {
      return InvalidArgument(std::to_string(binary_.size()) +
                             " bytes of binary data follow the inputs' binary_data_size total");
    }
    return Status::Ok();
  }

 private:
  Status ReadRequestParameters(od::value value, V2Request& out) {
    od::object params;
    if (value.get_object().get(params)) return InvalidArgument("'parameters' must be an object");
    for (auto field : params) {
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return internal::MalformedJson(error);
      if (key == "binary_data_output") {
        bool b = false;
        if (field.value().get_bool().get(b)) {
          return InvalidArgument("parameter 'binary_data_output' must be true or false");
        }
        out.output_options.binary_default = b;
      }
    }
    if (params.reset().error()) return InvalidArgument("'parameters' must be an object");
    std::string_view raw;
    if (auto error = params.raw_json().get(raw)) return internal::MalformedJson(error);
    out.parameters_json = raw;
    return Status::Ok();
  }

  Status ReadOutputs(od::value value, V2Request& out) {
    od::array outputs;
    if (value.get_array().get(outputs)) return InvalidArgument("'outputs' must be an array");
    for (auto element : outputs) {
      od::object obj;
      if (element.get_object().get(obj)) {
        return InvalidArgument("each entry of 'outputs' must be an object");
      }
      V2RequestedOutput requested;
      bool has_name = false;
      for (auto field : obj) {
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) return internal::MalformedJson(error);
        if (key == "name") {
          std::string_view name;
          if (field.value().get_string().get(name)) {
            return InvalidArgument("output 'name' must be a string");
          }
          requested.name = name;
          has_name = true;
        } else if (key == "parameters") {
          od::object params;
          if (field.value().get_object().get(params)) {
            return InvalidArgument("output 'parameters' must be an object");
          }
          for (auto param : params) {
            std::string_view param_key;
            if (auto error = param.unescaped_key().get(param_key)) {
              return internal::MalformedJson(error);
            }
            if (param_key == "binary_data") {
              bool b = false;
              if (param.value().get_bool().get(b)) {
                return InvalidArgument("output parameter 'binary_data' must be true or false");
              }
              requested.binary = b;
            } else if (param_key == "classification") {
              return Unimplemented("the classification extension is not supported");
            } else if (param_key.starts_with("shared_memory_")) {
              return Unimplemented("shared memory outputs are not supported");
            }
          }
        }
      }
      if (!has_name) return InvalidArgument("each entry of 'outputs' must have a 'name'");
      if (!model_.outputs.empty() && FindSpec(model_.outputs, requested.name) == nullptr) {
        return InvalidArgument("unknown output '" + requested.name + "'; the model's outputs are " +
                               NameList(model_.outputs));
      }
      for (const V2RequestedOutput& seen : out.output_options.requested) {
        if (seen.name == requested.name) {
          return InvalidArgument("output '" + requested.name + "' is requested twice");
        }
      }
      out.predict.outputs.push_back(requested.name);
      out.output_options.requested.push_back(std::move(requested));
    }
    return Status::Ok();
  }

  Status ReadInputs(od::value value, std::vector<Tensor>& inputs) {
    od::array array;
    if (value.get_array().get(array)) return InvalidArgument("'inputs' must be an array");
    for (auto element : array) {
      od::object obj;
      if (element.get_object().get(obj)) {
        return InvalidArgument("each entry of 'inputs' must be an object");
      }
      Tensor tensor;
      RETURN_IF_ERROR(ReadInput(obj, tensor));
      for (const Tensor& seen : inputs) {
        if (seen.name == tensor.name) {
          return InvalidArgument(InputError(tensor.name, "given more than once"));
        }
      }
      inputs.push_back(std::move(tensor));
    }
    return Status::Ok();
  }

  // Reads the header members in one pass; `data` is read on the way when name, datatype and
  // shape came before it (the usual order), else in a second pass.
  Status ReadInput(od::object& obj, Tensor& tensor) {
    InputHeader header;
    bool data_deferred = false;
    for (auto field : obj) {
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return internal::MalformedJson(error);
      od::value value;
      if (auto error = field.value().get(value)) return internal::MalformedJson(error);
      if (key == "name") {
        std::string_view name;
        if (value.get_string().get(name)) {
          return InvalidArgument("each input's 'name' must be a string");
        }
        tensor.name = name;
        header.has_name = true;
      } else if (key == "datatype") {
        std::string_view type_name;
        if (value.get_string().get(type_name)) {
          return InvalidArgument(InputError(tensor.name, "'datatype' must be a string"));
        }
        std::optional<DataType> type = runtime::ParseDataType(type_name);
        if (!type) {
          return InvalidArgument(
              InputError(tensor.name, "unknown datatype '" + std::string(type_name) + "'"));
        }
        tensor.type = *type;
        header.has_type = true;
      } else if (key == "shape") {
        RETURN_IF_ERROR(ReadShape(value, tensor));
        header.has_shape = true;
      } else if (key == "parameters") {
        RETURN_IF_ERROR(ReadInputParameters(value, tensor, header));
      } else if (key == "data") {
        header.has_data = true;
        if (header.has_name && header.has_type && header.has_shape) {
          RETURN_IF_ERROR(ReadData(value, tensor));
        } else {
          data_deferred = true;
        }
      }
    }
    if (!header.has_name) return InvalidArgument("each entry of 'inputs' must have a 'name'");
    if (!header.has_type) return InvalidArgument(InputError(tensor.name, "missing 'datatype'"));
    if (!header.has_shape) return InvalidArgument(InputError(tensor.name, "missing 'shape'"));
    if (header.has_data && header.binary_size) {
      return InvalidArgument(InputError(tensor.name, "has both 'data' and binary_data_size"));
    }
    RETURN_IF_ERROR(CheckHeader(tensor));
    if (header.binary_size) {
      if (!has_binary_section_) {
        return InvalidArgument(InputError(tensor.name,
                                          "has binary_data_size but the request has no "
                                          "Inference-Header-Content-Length header"));
      }
      std::optional<int64_t> count = CountAtMost(tensor.shape, *header.binary_size);
      if (!count) count = *header.binary_size + 1;  // reported as a size mismatch below
      return ReadBinary(tensor, *count, *header.binary_size, binary_);
    }
    if (!header.has_data) return InvalidArgument(InputError(tensor.name, "has no 'data'"));
    if (data_deferred) {
      if (auto error = obj.reset().error()) return internal::MalformedJson(error);
      od::value value;
      if (auto error = obj.find_field("data").get(value)) return internal::MalformedJson(error);
      RETURN_IF_ERROR(ReadData(value, tensor));
    }
    return Status::Ok();
  }

  Status ReadInputParameters(od::value value, const Tensor& tensor, InputHeader& header) {
    od::object params;
    if (value.get_object().get(params)) {
      return InvalidArgument(InputError(tensor.name, "'parameters' must be an object"));
    }
    for (auto field : params) {
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return internal::MalformedJson(error);
      if (key == "binary_data_size") {
        int64_t size = 0;
        if (field.value().get_int64().get(size) || size < 0) {
          return InvalidArgument(
              InputError(tensor.name, "binary_data_size must be a non-negative integer"));
        }
        header.binary_size = size;
      } else if (key.starts_with("shared_memory_")) {
        return Unimplemented(InputError(tensor.name, "shared memory inputs are not supported"));
      }
    }
    return Status::Ok();
  }

  // The datatype and shape checks, which come before any data is read.
  Status CheckHeader(const Tensor& tensor) {
    if (!model_.inputs.empty()) {
      const TensorSpec* spec = FindSpec(model_.inputs, tensor.name);
      if (spec == nullptr) {
        return InvalidArgument("unknown input '" + tensor.name + "'; the model's inputs are " +
                               NameList(model_.inputs));
      }
      RETURN_IF_ERROR(CheckAgainstSpec(tensor, *spec));
    }
    return Status::Ok();
  }

  Status ReadData(od::value value, Tensor& tensor) {
    RETURN_IF_ERROR(CheckHeader(tensor));
    if (tensor.type == DataType::kFp16 || tensor.type == DataType::kBf16) {
      return InvalidArgument(InputError(
          tensor.name, std::string(runtime::DataTypeName(tensor.type)) +
                           " data cannot be sent as JSON; use the binary tensor extension"));
    }
    // Each JSON element takes at least one byte of the body: a larger shape cannot fit, and
    // must not make us allocate for it.
    std::optional<int64_t> count = CountAtMost(tensor.shape, static_cast<int64_t>(json_size_));
    if (!count) {
      return InvalidArgument(InputError(tensor.name, "shape " + internal::ShapeText(tensor.shape) +
                                                         " has more elements than the request "
                                                         "body can hold"));
    }
    if (tensor.type == DataType::kBytes) {
      tensor.strings.reserve(static_cast<size_t>(*count));
    } else {
      tensor.data.resize(static_cast<size_t>(*count) * runtime::ElementSize(tensor.type));
    }
    DataReader reader(tensor, *count, std::max<size_t>(tensor.shape.size(), 1));
    RETURN_IF_ERROR(reader.Read(value, 0));
    return reader.Finish();
  }

  const runtime::ModelInterface& model_;
  std::string_view binary_;
  size_t json_size_;
  bool has_binary_section_;
};

StatusOr<V2Request> ParseRawBinary(std::string_view body, const runtime::ModelInterface& model) {
  if (model.inputs.size() != 1) {
    return InvalidArgument(
        "a raw binary request (Inference-Header-Content-Length: 0) needs a model with exactly "
        "one input; this model has " +
        std::to_string(model.inputs.size()));
  }
  const TensorSpec& spec = model.inputs[0];
  V2Request out;
  out.output_options.binary_default = true;
  Tensor tensor;
  tensor.name = spec.name;
  tensor.type = spec.type;
  if (spec.type == DataType::kBytes) {
    tensor.shape = {1};
    if (spec.shape.size() != 1 || (spec.shape[0] >= 0 && spec.shape[0] != 1)) {
      return InvalidArgument(InputError(spec.name, "a raw binary BYTES input needs shape [1]"));
    }
    tensor.strings.emplace_back(body);
  } else {
    const auto element_size = static_cast<int64_t>(runtime::ElementSize(spec.type));
    if (body.size() % static_cast<size_t>(element_size) != 0) {
      return InvalidArgument(
          InputError(spec.name, "raw binary body of " + std::to_string(body.size()) +
                                    " bytes is not a whole number of " +
                                    std::string(runtime::DataTypeName(spec.type)) + " elements"));
    }
    const int64_t count = static_cast<int64_t>(body.size()) / element_size;
    int64_t fixed = 1;
    int variable = -1;
    for (size_t i = 0; i < spec.shape.size(); ++i) {
      if (spec.shape[i] < 0) {
        if (variable >= 0) {
          return InvalidArgument(
              InputError(spec.name,
                         "a raw binary request needs at most one variable dimension, the model "
                         "declares " +
                             internal::ShapeText(spec.shape)));
        }
        variable = static_cast<int>(i);
      } else {
        fixed *= spec.shape[i];
      }
    }
    tensor.shape = spec.shape;
    if (variable >= 0) {
      if (fixed == 0 || count % fixed != 0) {
        return InvalidArgument(InputError(spec.name, "raw binary body of " + std::to_string(count) +
                                                         " elements does not fit shape " +
                                                         internal::ShapeText(spec.shape)));
      }
      tensor.shape[static_cast<size_t>(variable)] = count / fixed;
    } else if (fixed != count) {
      return InvalidArgument(InputError(
          spec.name, "raw binary body holds " + std::to_string(count) + " elements, shape " +
                         internal::ShapeText(spec.shape) + " needs " + std::to_string(fixed)));
    }
    tensor.data.resize(body.size());
    std::memcpy(tensor.data.data(), body.data(), body.size());
    if (tensor.type == DataType::kBool) {
      for (std::byte& b : tensor.data) b = b == std::byte{0} ? std::byte{0} : std::byte{1};
    }
  }
  out.predict.inputs.push_back(std::move(tensor));
  return out;
}

}  // namespace

StatusOr<V2Request> ParseV2InferRequest(std::string_view body,
                                        std::optional<size_t> inference_header_length,
                                        const runtime::ModelInterface& model) {
  if (inference_header_length && *inference_header_length == 0) {
    return ParseRawBinary(body, model);
  }
  std::string_view json = body;
  std::string_view binary;
  if (inference_header_length) {
    if (*inference_header_length > body.size()) {
      return InvalidArgument(
          "Inference-Header-Content-Length " + std::to_string(*inference_header_length) +
          " is larger than the request body (" + std::to_string(body.size()) + " bytes)");
    }
    json = body.substr(0, *inference_header_length);
    binary = body.substr(*inference_header_length);
  }
  od::document doc;
  if (auto error = internal::IterateBody(json, doc)) return internal::MalformedJson(error);
  RequestParser parser(model, binary, json.size());
  if (!inference_header_length) parser.set_no_binary_section();
  V2Request out;
  RETURN_IF_ERROR(parser.Parse(doc, out));
  return out;
}

}  // namespace cairn::inference
