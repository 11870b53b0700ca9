#include "artifact/tenant_layout.h"

#include <algorithm>

namespace cairn::artifact {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return Lower(x) == y; });
}

bool IsTenantChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

bool IsTenantFolderName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!std::all_of(name.begin(), name.end(), IsTenantChar)) return false;
  if (std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return !EqualsIgnoreCase(name, kDefaultTenant);
}

bool IsDefaultTenantTopLevelName(std::string_view segment) {
  if (segment.empty() || segment.front() == '.') return false;
  if (EqualsIgnoreCase(segment, kDefaultTenant)) return false;
  return !IsTenantFolderName(segment);
}

StatusOr<std::string> TenantStorePath(std::string_view tenant, std::string_view normalized) {
  if (tenant == kDefaultTenant) {
    std::string_view first = normalized.substr(0, normalized.find('/'));
    if (!normalized.empty() && !IsDefaultTenantTopLevelName(first)) {
      return InvalidArgument("artifact path '" + std::string(normalized.substr(0, 200)) +
                             "' starts with '" + std::string(first.substr(0, 80)) +
                             "', a name reserved for tenant folders and Cairn's own files");
    }
    return std::string(normalized);
  }
  if (!IsTenantFolderName(tenant) ||
      std::any_of(tenant.begin(), tenant.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return InvalidArgument("invalid tenant name for artifact storage");
  }
  std::string out(tenant);
  if (!normalized.empty()) {
    out += '/';
    out += normalized;
  }
  return out;
}

std::vector<FileInfo> DefaultTenantRootEntries(std::vector<FileInfo> root_entries) {
  std::erase_if(root_entries,
                [](const FileInfo& f) { return !IsDefaultTenantTopLevelName(f.path); });
  return root_entries;
}

}  // namespace cairn::artifact
