#include "runtime/mlmodel.h"

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace cairn::runtime {
namespace {

namespace json = boost::json;

std::string ScalarOr(const YAML::Node& node, std::string_view key) {
  YAML::Node value = node[std::string(key)];
  return value && value.IsScalar() ? value.as<std::string>() : std::string();
}

StatusOr<std::vector<int64_t>> ParseShape(const json::value& shape, std::string_view what) {
  if (!shape.is_array()) {
    return InvalidArgument(std::string("MLmodel signature: ") + std::string(what) +
                           " shape is not a list");
  }
  std::vector<int64_t> dims;
  for (const json::value& dim : shape.as_array()) {
    if (!dim.is_int64()) {
      return InvalidArgument(std::string("MLmodel signature: ") + std::string(what) +
                             " shape holds a non-integer");
    }
    dims.push_back(dim.as_int64());
  }
  return dims;
}

// Parses one side (inputs or outputs) of a signature: a JSON list of column or tensor specs.
Status ParseSpecs(const std::string& text, std::string_view side, ModelSignature& signature,
                  std::vector<TensorSpec>& specs, std::vector<std::string>* column_types) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_array()) {
    return InvalidArgument("MLmodel signature: " + std::string(side) + " is not a JSON list");
  }
  int index = 0;
  for (const json::value& item : parsed.as_array()) {
    if (!item.is_object()) {
      return InvalidArgument("MLmodel signature: " + std::string(side) + " entry not an object");
    }
    const json::object& spec = item.as_object();
    TensorSpec out;
    if (const json::value* name = spec.if_contains("name"); name != nullptr && name->is_string()) {
      out.name = std::string(name->as_string());
    } else {
      out.name = std::to_string(index);
    }
    if (const json::value* required = spec.if_contains("required");
        required != nullptr && required->is_bool()) {
      out.optional = !required->as_bool();
    }
    const json::value* type = spec.if_contains("type");
    if (type == nullptr || !type->is_string()) {
      return InvalidArgument("MLmodel signature: " + out.name + " has no type");
    }
    std::string type_name(type->as_string());
    if (type_name == "tensor") {
      signature.tensor_based = true;
      const json::value* tensor_spec = spec.if_contains("tensor-spec");
      if (tensor_spec == nullptr || !tensor_spec->is_object()) {
        return InvalidArgument("MLmodel signature: tensor " + out.name + " has no tensor-spec");
      }
      const json::value* dtype = tensor_spec->as_object().if_contains("dtype");
      std::optional<DataType> data_type;
      if (dtype != nullptr && dtype->is_string()) {
        data_type = DataTypeFromMlflow(std::string(dtype->as_string()));
      }
      if (!data_type) {
        return InvalidArgument("MLmodel signature: tensor " + out.name + " has an unknown dtype");
      }
      out.type = *data_type;
      if (const json::value* shape = tensor_spec->as_object().if_contains("shape")) {
        ASSIGN_OR_RETURN(out.shape, ParseShape(*shape, out.name));
      }
    } else {
      std::optional<DataType> data_type = DataTypeFromMlflow(type_name);
      // Array, object and map columns have no tensor form; the Python runtime passes them on.
      out.type = data_type.value_or(DataType::kBytes);
      out.shape = {-1};
      if (column_types != nullptr) {
        column_types->push_back(type_name);
      }
    }
    specs.push_back(std::move(out));
    ++index;
  }
  return Status::Ok();
}

}  // namespace

std::optional<DataType> DataTypeFromMlflow(std::string_view name) {
  struct Entry {
    std::string_view name;
    DataType type;
  };
  static constexpr Entry kEntries[] = {
      {"double", DataType::kFp64},   {"float", DataType::kFp32},     {"long", DataType::kInt64},
      {"integer", DataType::kInt32}, {"boolean", DataType::kBool},   {"string", DataType::kBytes},
      {"binary", DataType::kBytes},  {"datetime", DataType::kBytes}, {"float64", DataType::kFp64},
      {"float32", DataType::kFp32},  {"float16", DataType::kFp16},   {"int64", DataType::kInt64},
      {"int32", DataType::kInt32},   {"int16", DataType::kInt16},    {"int8", DataType::kInt8},
      {"uint64", DataType::kUint64}, {"uint32", DataType::kUint32},  {"uint16", DataType::kUint16},
      {"uint8", DataType::kUint8},   {"bool", DataType::kBool},      {"object", DataType::kBytes},
      {"str", DataType::kBytes},     {"bytes", DataType::kBytes},
  };
  for (const Entry& entry : kEntries) {
    if (entry.name == name) {
      return entry.type;
    }
  }
  return std::nullopt;
}

StatusOr<MlModel> ParseMlModel(std::string_view yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("MLmodel is not valid YAML: ") + e.what());
  }
  if (!root.IsMap()) {
    return InvalidArgument("MLmodel is not a YAML mapping");
  }
  MlModel model;
  YAML::Node flavors = root["flavors"];
  if (!flavors || !flavors.IsMap()) {
    return InvalidArgument("MLmodel has no flavors");
  }
  try {
    for (const auto& flavor : flavors) {
      std::string name = flavor.first.as<std::string>();
      std::string data;
      if (flavor.second.IsMap()) {
        data = ScalarOr(flavor.second, "data");
        if (data.empty()) {
          data = ScalarOr(flavor.second, "model_path");
        }
        if (name == "python_function") {
          model.loader_module = ScalarOr(flavor.second, "loader_module");
        }
      }
      model.flavors.emplace(std::move(name), std::move(data));
    }
    YAML::Node signature = root["signature"];
    if (signature && signature.IsMap()) {
      ModelSignature parsed;
      std::string inputs = ScalarOr(signature, "inputs");
      std::string outputs = ScalarOr(signature, "outputs");
      if (!inputs.empty()) {
        RETURN_IF_ERROR(
            ParseSpecs(inputs, "inputs", parsed, parsed.inputs, &parsed.input_column_types));
      }
      if (!outputs.empty()) {
        ModelSignature output_side;
        RETURN_IF_ERROR(ParseSpecs(outputs, "outputs", output_side, parsed.outputs, nullptr));
      }
      if (parsed.tensor_based) {
        parsed.input_column_types.clear();
      }
      model.signature = std::move(parsed);
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("MLmodel is malformed: ") + e.what());
  }
  return model;
}

StatusOr<MlModel> ReadMlModel(const std::filesystem::path& dir) {
  std::ifstream in(dir / "MLmodel", std::ios::binary);
  if (!in) {
    return NotFound("no MLmodel file in " + dir.string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseMlModel(text.str());
}

}  // namespace cairn::runtime
