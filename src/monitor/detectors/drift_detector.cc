#include "monitor/detectors/drift_detector.h"

#include <array>
#include <memory>

#include "monitor/detectors/adwin.h"
#include "monitor/detectors/ddm.h"
#include "monitor/detectors/eddm.h"
#include "monitor/detectors/page_hinkley.h"

namespace cairn::monitor {
namespace {

constexpr std::array<std::string_view, 4> kNames = {Adwin::kName, Ddm::kName, Eddm::kName,
                                                    PageHinkley::kName};

Status UnknownDetector(std::string_view name) {
  std::string known;
  for (std::string_view n : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
  return InvalidArgument("unknown drift detector '" + std::string(name) + "' (known: " + known +
                         ")");
}

// Upcasts a concrete StatusOr<unique_ptr<T>> to the interface.
template <typename T>
StatusOr<std::unique_ptr<DriftDetector>> Upcast(StatusOr<std::unique_ptr<T>> detector) {
  if (!detector.ok()) return detector.status();
  return std::unique_ptr<DriftDetector>(std::move(detector).value());
}

// Parses the options of `Detector` and builds it fresh or, given a state, restored.
template <typename Detector, typename Options>
StatusOr<std::unique_ptr<DriftDetector>> Build(std::string_view params_json,
                                               const std::string_view* state_json) {
  ASSIGN_OR_RETURN(Options options, Options::FromJson(params_json));
  if (state_json == nullptr)
    return std::unique_ptr<DriftDetector>(std::make_unique<Detector>(options));
  return Upcast(Detector::Restore(options, *state_json));
}

StatusOr<std::unique_ptr<DriftDetector>> BuildByName(std::string_view name,
                                                     std::string_view params_json,
                                                     const std::string_view* state_json) {
  if (name == Adwin::kName) return Build<Adwin, AdwinOptions>(params_json, state_json);
  if (name == Ddm::kName) return Build<Ddm, DdmOptions>(params_json, state_json);
  if (name == Eddm::kName) return Build<Eddm, EddmOptions>(params_json, state_json);
  if (name == PageHinkley::kName) {
    return Build<PageHinkley, PageHinkleyOptions>(params_json, state_json);
  }
  return UnknownDetector(name);
}

}  // namespace

DriftDetector::~DriftDetector() = default;

std::span<const std::string_view> DetectorNames() { return kNames; }

StatusOr<std::unique_ptr<DriftDetector>> CreateDetector(std::string_view name,
                                                        std::string_view params_json) {
  return BuildByName(name, params_json, nullptr);
}

StatusOr<std::unique_ptr<DriftDetector>> RestoreDetector(std::string_view name,
                                                         std::string_view params_json,
                                                         std::string_view state_json) {
  return BuildByName(name, params_json, &state_json);
}

}  // namespace cairn::monitor
