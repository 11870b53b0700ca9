#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "artifact/s3/sigv4_signer.h"
#include "base/status.h"

namespace cairn::artifact {

// The AWS shared files, as the AWS SDKs and the AWS CLI read them:
//   credentials file  AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials; the section of a
//                     profile is [<name>]
//   config file       AWS_CONFIG_FILE, else ~/.aws/config; the section of a profile is
//                     [profile <name>], and the default profile's is [default]
//   profile           AWS_PROFILE, else "default"
// Format (INI, as botocore parses it): section headers `[name]`; `key = value` lines (':' also
// separates); keys are case-insensitive; whitespace around keys and values is dropped; lines
// whose first non-blank character is '#' or ';' are comments (a '#' after a value is part of
// the value); a line indented deeper than the key above it continues that key's value (as in
// `s3 =` blocks); a key before any section header, a line with no separator, a repeated section
// or a repeated key in one section is malformed.
// Files are read once, when Load is called (at store open); later edits are not seen.

// One INI file: sections by header text, keys (lowercase) to values.
using AwsIniSections = std::map<std::string, std::map<std::string, std::string>>;

// Parses `text` read from `file_name` (named in errors only). INVALID_ARGUMENT naming the file
// and line for a malformed line; messages never quote a line (it may hold a secret).
StatusOr<AwsIniSections> ParseAwsIniFile(std::string_view text, std::string_view file_name);

// What the selected profile says.
struct AwsProfile {
  std::string name;
  bool found = false;  // the profile has a section in at least one of the files
  // Static keys: from the credentials file's section if it has aws_access_key_id or
  // aws_secret_access_key, else from the config file's section; nullopt when neither has them.
  std::optional<AwsCredentials> credentials;
  std::string credentials_from;  // the file the keys came from ("" without keys)
  // Settings of the profile; a key in the credentials file's section wins over the same key in
  // the config file's section (as botocore merges them). "" when unset.
  std::string region;
  std::string endpoint_url;
  // A credential source of the profile that Cairn does not implement (role_arn,
  // credential_process, sso_session, sso_start_url, web_identity_token_file); "" when none.
  std::string unsupported_source;
  std::string files_read;  // "<credentials file>, <config file>", for error messages
};

// Reads the files the environment (`env`, a getenv returning "" for unset) points at and picks
// the profile. A missing file is no error (nor is an unset HOME, which leaves the default paths
// unset). INVALID_ARGUMENT, naming the file and line, for a malformed or unreadable file (over
// 1 MiB counts as malformed), for a half key pair (one of aws_access_key_id and
// aws_secret_access_key), and, naming the profile and both files, when AWS_PROFILE names a
// profile that neither file has. Never puts a key or token in a message.
StatusOr<AwsProfile> LoadAwsProfile(const std::function<std::string(const char*)>& env);

}  // namespace cairn::artifact
