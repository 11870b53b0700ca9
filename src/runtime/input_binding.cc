#include "runtime/input_binding.h"

#include <cstring>
#include <string>
#include <type_traits>

namespace cairn::runtime {
namespace {

// Calls fn(T{}) with the C++ type of a fixed-size, convertible data type.
template <typename Fn>
bool VisitNumeric(DataType type, Fn&& fn) {
  switch (type) {
    case DataType::kBool:
      fn(bool{});
      return true;
    case DataType::kUint8:
      fn(uint8_t{});
      return true;
    case DataType::kUint16:
      fn(uint16_t{});
      return true;
    case DataType::kUint32:
      fn(uint32_t{});
      return true;
    case DataType::kUint64:
      fn(uint64_t{});
      return true;
    case DataType::kInt8:
      fn(int8_t{});
      return true;
    case DataType::kInt16:
      fn(int16_t{});
      return true;
    case DataType::kInt32:
      fn(int32_t{});
      return true;
    case DataType::kInt64:
      fn(int64_t{});
      return true;
    case DataType::kFp32:
      fn(float{});
      return true;
    case DataType::kFp64:
      fn(double{});
      return true;
    default:
      return false;
  }
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return text + "]";
}

Status CheckShape(const Tensor& tensor, const TensorSpec& spec) {
  if (spec.shape.empty()) {
    return Status::Ok();  // the model declares no shape
  }
  bool fits = tensor.shape.size() == spec.shape.size();
  for (size_t i = 0; fits && i < spec.shape.size(); ++i) {
    fits = spec.shape[i] < 0 || spec.shape[i] == tensor.shape[i];
  }
  if (!fits) {
    return InvalidArgument("input '" + spec.name + "' has shape " + ShapeText(tensor.shape) +
                           ", the model expects " + ShapeText(spec.shape));
  }
  return Status::Ok();
}

// Reads element `i` of a fixed-size tensor as double-or-integer and writes it as T.
template <typename To>
void ConvertInto(const Tensor& from, std::vector<std::byte>& out) {
  const int64_t count = static_cast<int64_t>(from.data.size() / ElementSize(from.type));
  out.resize(count * sizeof(To));
  To* dst = reinterpret_cast<To*>(out.data());
  VisitNumeric(from.type, [&](auto tag) {
    using From = decltype(tag);
    const From* src = reinterpret_cast<const From*>(from.data.data());
    for (int64_t i = 0; i < count; ++i) {
      dst[i] = static_cast<To>(src[i]);
    }
  });
}

}  // namespace

StatusOr<Tensor> CastTensor(Tensor tensor, DataType target) {
  if (tensor.type == target) {
    return tensor;
  }
  auto mismatch = [&] {
    return InvalidArgument("input '" + tensor.name + "' has type " +
                           std::string(DataTypeName(tensor.type)) + ", the model expects " +
                           std::string(DataTypeName(target)));
  };
  if (tensor.type == DataType::kBytes || target == DataType::kBytes) {
    return mismatch();
  }
  bool from_numeric = VisitNumeric(tensor.type, [](auto) {});
  std::vector<std::byte> converted;
  bool to_numeric = VisitNumeric(target, [&](auto tag) {
    if (from_numeric) {
      ConvertInto<decltype(tag)>(tensor, converted);
    }
  });
  if (!from_numeric || !to_numeric) {
    return mismatch();
  }
  tensor.data = std::move(converted);
  tensor.type = target;
  return tensor;
}

namespace {

// Stacks 1-D columns into one [rows, columns] tensor of `spec`'s type.
StatusOr<Tensor> StackColumns(std::vector<Tensor>& columns, const TensorSpec& spec) {
  const int64_t width = static_cast<int64_t>(columns.size());
  if (spec.shape.size() == 2 && spec.shape[1] >= 0 && spec.shape[1] != width) {
    return InvalidArgument("input '" + spec.name + "' takes " + std::to_string(spec.shape[1]) +
                           " columns, the request has " + std::to_string(width));
  }
  const int64_t rows = columns.empty() || columns[0].shape.empty() ? 0 : columns[0].shape[0];
  Tensor out{.name = spec.name, .type = spec.type, .shape = {rows, width}};
  const size_t element = ElementSize(spec.type);
  if (spec.type == DataType::kBytes) {
    out.strings.resize(static_cast<size_t>(rows * width));
  } else if (element == 0 || !VisitNumeric(spec.type, [](auto) {})) {
    return InvalidArgument("input '" + spec.name + "' has a type a table cannot fill");
  } else {
    out.data.resize(static_cast<size_t>(rows * width) * element);
  }
  for (int64_t c = 0; c < width; ++c) {
    Tensor& column = columns[static_cast<size_t>(c)];
    if (column.shape.size() != 1 || column.shape[0] != rows) {
      return InvalidArgument("column '" + column.name + "' has a different row count");
    }
    ASSIGN_OR_RETURN(Tensor cast, CastTensor(std::move(column), spec.type));
    for (int64_t r = 0; r < rows; ++r) {
      if (spec.type == DataType::kBytes) {
        out.strings[static_cast<size_t>(r * width + c)] =
            std::move(cast.strings[static_cast<size_t>(r)]);
      } else {
        std::memcpy(out.data.data() + static_cast<size_t>(r * width + c) * element,
                    cast.data.data() + static_cast<size_t>(r) * element, element);
      }
    }
  }
  return out;
}

}  // namespace

StatusOr<std::vector<Tensor>> BindInputs(PredictRequest& request, const ModelInterface& model) {
  std::vector<Tensor> bound;
  bound.reserve(model.inputs.size());
  if (request.columnar && model.inputs.size() == 1 && model.inputs[0].shape.size() == 2) {
    ASSIGN_OR_RETURN(Tensor stacked, StackColumns(request.inputs, model.inputs[0]));
    RETURN_IF_ERROR(CheckShape(stacked, model.inputs[0]));
    bound.push_back(std::move(stacked));
    return bound;
  }
  if (!request.columnar && request.inputs.size() == 1 && model.inputs.size() == 1 &&
      request.inputs[0].name != model.inputs[0].name) {
    request.inputs[0].name = model.inputs[0].name;
  }
  for (const TensorSpec& spec : model.inputs) {
    Tensor* found = nullptr;
    for (Tensor& tensor : request.inputs) {
      if (tensor.name == spec.name) {
        found = &tensor;
        break;
      }
    }
    if (found == nullptr) {
      if (spec.optional) {
        continue;
      }
      return InvalidArgument("missing input '" + spec.name + "'");
    }
    Tensor tensor = std::move(*found);
    found->name.clear();  // marks it as bound
    if (request.columnar && spec.shape.size() == 2 && tensor.shape.size() == 1) {
      tensor.shape.push_back(1);
    }
    ASSIGN_OR_RETURN(tensor, CastTensor(std::move(tensor), spec.type));
    RETURN_IF_ERROR(CheckShape(tensor, spec));
    bound.push_back(std::move(tensor));
  }
  for (const Tensor& tensor : request.inputs) {
    if (!tensor.name.empty()) {
      return InvalidArgument("unknown input '" + tensor.name + "'");
    }
  }
  return bound;
}

}  // namespace cairn::runtime
