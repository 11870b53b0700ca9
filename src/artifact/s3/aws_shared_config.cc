#include "artifact/s3/aws_shared_config.h"

#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace cairn::artifact {
namespace {

constexpr size_t kMaxFileBytes = size_t{1} << 20;
constexpr std::string_view kBlank = " \t\r\f\v";

std::string_view Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(kBlank);
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(kBlank);
  return text.substr(begin, end - begin + 1);
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

Status Malformed(std::string_view file_name, size_t line, std::string_view why) {
  return InvalidArgument("AWS shared file " + std::string(file_name) + " line " +
                         std::to_string(line) + ": " + std::string(why));
}

// "" when the path (after '~' expansion) is unusable; the AWS SDKs skip such a file.
std::string ExpandHome(const std::string& path, const std::string& home) {
  if (path == "~") return home;
  if (path.starts_with("~/")) return home.empty() ? "" : home + path.substr(1);
  return path;
}

// Reads the file at `path`; nullopt when it does not exist or is not a regular file (the AWS
// SDKs ignore those).
StatusOr<std::optional<AwsIniSections>> ReadIniFile(const std::string& path) {
  if (path.empty()) return std::optional<AwsIniSections>();
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<AwsIniSections>();
    return InvalidArgument("AWS shared file " + path + " cannot be read");
  }
  if (!S_ISREG(info.st_mode)) return std::optional<AwsIniSections>();
  if (static_cast<size_t>(info.st_size) > kMaxFileBytes) {
    return InvalidArgument("AWS shared file " + path + " is larger than 1 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("AWS shared file " + path + " cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return InvalidArgument("AWS shared file " + path + " cannot be read");
  ASSIGN_OR_RETURN(AwsIniSections sections, ParseAwsIniFile(text.str(), path));
  return std::optional<AwsIniSections>(std::move(sections));
}

// The config file's section for `profile`: [profile <name>], or [default] for "default".
const std::map<std::string, std::string>* ConfigSection(const AwsIniSections& sections,
                                                        const std::string& profile) {
  for (const auto& [header, keys] : sections) {
    std::string_view text = header;
    if (!text.starts_with("profile")) continue;
    text.remove_prefix(7);
    if (text.empty() || kBlank.find(text.front()) == std::string_view::npos) continue;
    if (Trim(text) == profile) return &keys;
  }
  if (profile == "default") {
    auto it = sections.find("default");
    if (it != sections.end()) return &it->second;
  }
  return nullptr;
}

std::string Get(const std::map<std::string, std::string>* section, const std::string& key) {
  if (section == nullptr) return "";
  auto it = section->find(key);
  return it == section->end() ? "" : it->second;
}

bool Has(const std::map<std::string, std::string>* section, const std::string& key) {
  return section != nullptr && section->contains(key);
}

// Static keys of one section; nullopt when it has neither key. Messages name the key, never
// its value.
StatusOr<std::optional<AwsCredentials>> SectionCredentials(
    const std::map<std::string, std::string>* section, const std::string& profile,
    const std::string& file) {
  bool has_id = Has(section, "aws_access_key_id");
  bool has_secret = Has(section, "aws_secret_access_key");
  if (!has_id && !has_secret) return std::optional<AwsCredentials>();
  std::string where = "profile '" + profile + "' in " + file;
  if (!has_id || !has_secret) {
    return InvalidArgument(where + " has " +
                           (has_id ? "aws_access_key_id but no aws_secret_access_key"
                                   : "aws_secret_access_key but no aws_access_key_id"));
  }
  AwsCredentials credentials{Get(section, "aws_access_key_id"),
                             Get(section, "aws_secret_access_key"),
                             Get(section, "aws_session_token")};
  if (credentials.session_token.empty()) {
    credentials.session_token = Get(section, "aws_security_token");
  }
  const std::pair<const char*, const std::string*> fields[] = {
      {"aws_access_key_id", &credentials.access_key_id},
      {"aws_secret_access_key", &credentials.secret_access_key},
      {"aws_session_token", &credentials.session_token}};
  for (const auto& [key, value] : fields) {
    if (value->find_first_of(" \t\r\n") != std::string::npos) {
      return InvalidArgument(where + ": the value of " + key +
                             " contains whitespace (a comment after a value is part of it)");
    }
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return InvalidArgument(where + " has an empty aws_access_key_id or aws_secret_access_key");
  }
  return std::optional<AwsCredentials>(std::move(credentials));
}

}  // namespace

StatusOr<AwsIniSections> ParseAwsIniFile(std::string_view text, std::string_view file_name) {
  AwsIniSections sections;
  std::map<std::string, std::string>* section = nullptr;
  std::string* value = nullptr;  // the last key's value, which indented lines continue
  size_t key_indent = 0;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line_number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    std::string_view content = Trim(line);
    if (content.empty() || content.front() == '#' || content.front() == ';') continue;
    size_t indent = line.find_first_not_of(kBlank);
    if (value != nullptr && indent > key_indent) {
      *value += '\n';
      *value += content;
      continue;
    }
    value = nullptr;
    if (content.front() == '[') {
      size_t close = content.find(']');
      if (close == std::string_view::npos) {
        return Malformed(file_name, line_number, "a section header has no closing ']'");
      }
      std::string_view rest = Trim(content.substr(close + 1));
      if (!rest.empty() && rest.front() != '#' && rest.front() != ';') {
        return Malformed(file_name, line_number, "text after a section header's ']'");
      }
      std::string header(Trim(content.substr(1, close - 1)));
      if (header.empty()) return Malformed(file_name, line_number, "an empty section header");
      auto [it, inserted] = sections.try_emplace(header);
      if (!inserted) {
        return Malformed(file_name, line_number, "section [" + header + "] appears twice");
      }
      section = &it->second;
      continue;
    }
    if (section == nullptr) {
      return Malformed(file_name, line_number, "a setting before the first [section] header");
    }
    size_t separator = content.find_first_of("=:");
    if (separator == std::string_view::npos) {
      return Malformed(file_name, line_number, "expected 'key = value' or a [section] header");
    }
    std::string key = Lower(Trim(content.substr(0, separator)));
    if (key.empty()) return Malformed(file_name, line_number, "a setting with no key");
    auto [it, inserted] =
        section->try_emplace(key, std::string(Trim(content.substr(separator + 1))));
    if (!inserted) {
      return Malformed(file_name, line_number, "key '" + key + "' appears twice in its section");
    }
    value = &it->second;
    key_indent = indent;
  }
  return sections;
}

StatusOr<AwsProfile> LoadAwsProfile(const std::function<std::string(const char*)>& env) {
  const std::string home = env("HOME");
  std::string credentials_path = env("AWS_SHARED_CREDENTIALS_FILE");
  if (credentials_path.empty() && !home.empty()) credentials_path = "~/.aws/credentials";
  std::string config_path = env("AWS_CONFIG_FILE");
  if (config_path.empty() && !home.empty()) config_path = "~/.aws/config";
  credentials_path = ExpandHome(credentials_path, home);
  config_path = ExpandHome(config_path, home);

  AwsProfile profile;
  const std::string named = env("AWS_PROFILE");
  profile.name = named.empty() ? "default" : named;
  profile.files_read = (credentials_path.empty() ? "(no credentials file)" : credentials_path) +
                       ", " + (config_path.empty() ? "(no config file)" : config_path);

  ASSIGN_OR_RETURN(std::optional<AwsIniSections> credentials_file, ReadIniFile(credentials_path));
  ASSIGN_OR_RETURN(std::optional<AwsIniSections> config_file, ReadIniFile(config_path));

  const std::map<std::string, std::string>* from_credentials = nullptr;
  if (credentials_file) {
    auto it = credentials_file->find(profile.name);
    if (it != credentials_file->end()) from_credentials = &it->second;
  }
  const std::map<std::string, std::string>* from_config =
      config_file ? ConfigSection(*config_file, profile.name) : nullptr;
  profile.found = from_credentials != nullptr || from_config != nullptr;
  if (!profile.found && !named.empty()) {
    return InvalidArgument("AWS_PROFILE names profile '" + named +
                           "', which is in neither AWS shared file (looked at " +
                           profile.files_read + ")");
  }

  ASSIGN_OR_RETURN(profile.credentials,
                   SectionCredentials(from_credentials, profile.name, credentials_path));
  if (profile.credentials) {
    profile.credentials_from = credentials_path;
  } else {
    ASSIGN_OR_RETURN(profile.credentials,
                     SectionCredentials(from_config, profile.name, config_path));
    if (profile.credentials) profile.credentials_from = config_path;
  }

  auto setting = [&](const std::string& key) {
    return Has(from_credentials, key) ? Get(from_credentials, key) : Get(from_config, key);
  };
  profile.region = setting("region");
  profile.endpoint_url = setting("endpoint_url");
  for (const char* key : {"role_arn", "web_identity_token_file", "sso_session", "sso_start_url",
                          "credential_process"}) {
    if (Has(from_credentials, key) || Has(from_config, key)) {
      profile.unsupported_source = key;
      break;
    }
  }
  return profile;
}

}  // namespace cairn::artifact
