#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/tensor.h"

namespace cairn::runtime {

// The `signature` of an MLmodel file: either column-based (a table: each input is a column of
// N rows) or tensor-based (each input a named n-dimensional array).
struct ModelSignature {
  bool tensor_based = false;
  // Column-based: one 1-D spec per column, shape {-1}; `optional` when `required: false`.
  // Tensor-based: the tensor specs as declared.
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  // Column types as MLflow spells them ("double", "long", "string", ...), parallel to `inputs`;
  // empty for tensor-based signatures.
  std::vector<std::string> input_column_types;
};

// The parts of an `MLmodel` file that serving needs.
struct MlModel {
  // Flavor name -> its `data` (or `model_path`) entry, "" when absent.
  std::map<std::string, std::string, std::less<>> flavors;
  // python_function's loader_module, e.g. "mlflow.sklearn".
  std::string loader_module;
  std::optional<ModelSignature> signature;

  bool HasFlavor(std::string_view name) const { return flavors.find(name) != flavors.end(); }
};

// Parses the YAML text of an MLmodel file. InvalidArgument names what is malformed.
StatusOr<MlModel> ParseMlModel(std::string_view yaml_text);
// Reads and parses `<dir>/MLmodel`. NotFound when the file is missing.
StatusOr<MlModel> ReadMlModel(const std::filesystem::path& dir);

// Maps an MLflow column type ("double", "float", "long", "integer", "boolean", "string",
// "binary", "datetime") or a numpy dtype ("float32", "int64", "bool", "object", "str", ...) to a
// V2 data type.
std::optional<DataType> DataTypeFromMlflow(std::string_view name);

}  // namespace cairn::runtime
