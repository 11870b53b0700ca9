#include "artifact/s3/s3_store_config.h"

#include <unistd.h>

#include <cstdlib>

#include "artifact/s3/aws_shared_config.h"
#include "artifact/s3/instance_profile_credentials_provider.h"

namespace cairn::artifact {
namespace {

bool ValidBucketName(const std::string& bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
      return false;
    }
  }
  return bucket.front() != '.' && bucket.front() != '-' && bucket.back() != '.' &&
         bucket.back() != '-';
}

StatusOr<std::string> CheckEndpoint(std::string endpoint, std::string_view from) {
  while (endpoint.ends_with('/')) endpoint.pop_back();
  if (!endpoint.starts_with("http://") && !endpoint.starts_with("https://")) {
    return InvalidArgument("S3 endpoint '" + endpoint + "' (" + std::string(from) +
                           ") must start with http:// or https://");
  }
  size_t authority = endpoint.find("://") + 3;
  if (endpoint.size() == authority ||
      endpoint.find_first_of("/?#@ ", authority) != std::string::npos) {
    return InvalidArgument("S3 endpoint '" + endpoint + "' (" + std::string(from) +
                           ") must be scheme://host[:port] with no path or user");
  }
  return endpoint;
}

}  // namespace

StatusOr<S3StoreConfig> ParseS3StoreConfig(const Uri& uri,
                                           const std::function<std::string(const char*)>& env) {
  S3StoreConfig config;
  if (uri.authority.find('@') != std::string::npos) {
    return InvalidArgument(
        "S3 artifact URI must not carry credentials (the server logs it); set "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead");
  }
  config.client.bucket = uri.authority;
  if (!ValidBucketName(config.client.bucket)) {
    return InvalidArgument("S3 artifact URI '" + uri.ToString() +
                           "' needs a bucket name: s3://bucket[/prefix] (3-63 characters of "
                           "a-z, 0-9, '.', '-')");
  }
  ASSIGN_OR_RETURN(std::string prefix, PercentDecode(uri.path));
  while (prefix.starts_with('/')) prefix.erase(0, 1);
  while (prefix.ends_with('/')) prefix.pop_back();
  StatusOr<std::string> normalized = NormalizeArtifactPath(prefix);
  if (!normalized.ok() || *normalized != prefix) {
    return InvalidArgument("S3 artifact URI has an unusable key prefix '" + prefix + "'");
  }
  config.store.prefix = prefix;

  std::string endpoint, region, addressing, part_size;
  if (!uri.query.empty()) {
    size_t start = 0;
    while (start <= uri.query.size()) {
      size_t end = uri.query.find('&', start);
      if (end == std::string::npos) end = uri.query.size();
      std::string_view item(uri.query.data() + start, end - start);
      start = end + 1;
      if (item.empty()) continue;
      size_t eq = item.find('=');
      std::string name(item.substr(0, eq));
      ASSIGN_OR_RETURN(std::string value,
                       PercentDecode(eq == std::string_view::npos ? "" : item.substr(eq + 1)));
      if (name == "endpoint") {
        endpoint = value;
      } else if (name == "region") {
        region = value;
      } else if (name == "addressing") {
        addressing = value;
      } else if (name == "part_size_mb") {
        part_size = value;
      } else {
        return InvalidArgument("unknown S3 artifact URI option '" + name +
                               "' (known: endpoint, region, addressing, part_size_mb)");
      }
    }
  }

  // Read even when the environment has everything: a profile that AWS_PROFILE names must exist,
  // as the AWS SDKs require.
  ASSIGN_OR_RETURN(AwsProfile profile, LoadAwsProfile(env));

  if (region.empty()) region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (region.empty()) region = profile.region;
  if (region.empty()) region = "us-east-1";
  if (region.find_first_of("/ \r\n") != std::string::npos) {
    return InvalidArgument("S3 region '" + region + "' is malformed");
  }
  config.client.region = region;

  bool endpoint_override = true;
  std::string endpoint_from = "the URI";
  if (endpoint.empty()) {
    endpoint = env("AWS_ENDPOINT_URL_S3");
    endpoint_from = "AWS_ENDPOINT_URL_S3";
  }
  if (endpoint.empty()) {
    endpoint = env("AWS_ENDPOINT_URL");
    endpoint_from = "AWS_ENDPOINT_URL";
  }
  if (endpoint.empty()) {
    endpoint = profile.endpoint_url;
    endpoint_from = "endpoint_url of AWS profile '" + profile.name + "'";
  }
  if (endpoint.empty()) {
    endpoint = "https://s3." + region + ".amazonaws.com";
    endpoint_override = false;
  }
  ASSIGN_OR_RETURN(config.client.endpoint, CheckEndpoint(endpoint, endpoint_from));

  if (addressing.empty()) {
    config.client.path_style =
        endpoint_override || config.client.bucket.find('.') != std::string::npos;
  } else if (addressing == "path" || addressing == "virtual") {
    config.client.path_style = addressing == "path";
  } else {
    return InvalidArgument("S3 addressing must be 'path' or 'virtual', not '" + addressing + "'");
  }

  if (!part_size.empty()) {
    char* end = nullptr;
    long mb = std::strtol(part_size.c_str(), &end, 10);
    if (*end != '\0' || mb < 5 || mb > 5120) {
      return InvalidArgument("S3 part_size_mb must be an integer from 5 to 5120");
    }
    config.store.part_size = static_cast<size_t>(mb) << 20;
  }

  config.client.http.ca_file = env("AWS_CA_BUNDLE");

  AwsCredentials credentials{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"),
                             env("AWS_SESSION_TOKEN")};
  if (!credentials.access_key_id.empty() || !credentials.secret_access_key.empty()) {
    if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
      return InvalidArgument(
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together (only one is set)");
    }
    config.credentials = std::move(credentials);
    config.credentials_from = "the environment";
  } else if (!profile.unsupported_source.empty()) {
    // The AWS SDKs would take these credentials before any static keys of the profile.
    return InvalidArgument("AWS profile '" + profile.name + "' gets its credentials through " +
                           profile.unsupported_source +
                           ", which Cairn does not support; give it aws_access_key_id and "
                           "aws_secret_access_key instead, or set AWS_ACCESS_KEY_ID and "
                           "AWS_SECRET_ACCESS_KEY");
  } else if (profile.credentials) {
    config.credentials = std::move(profile.credentials);
    config.credentials_from = profile.credentials_from + " (AWS profile '" + profile.name + "')";
  } else if (env("AWS_EC2_METADATA_DISABLED") != "true") {
    config.credentials_from = "the EC2 instance profile";
    config.imds_endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (config.imds_endpoint.empty()) config.imds_endpoint = "http://169.254.169.254";
    ASSIGN_OR_RETURN(config.imds_endpoint,
                     CheckEndpoint(config.imds_endpoint, "AWS_EC2_METADATA_SERVICE_ENDPOINT"));
  }
  return config;
}

StatusOr<std::unique_ptr<S3ArtifactStore>> OpenS3ArtifactStore(const S3StoreConfig& config) {
  const std::string& ca_file = config.client.http.ca_file;
  if (!ca_file.empty() && ::access(ca_file.c_str(), R_OK) != 0) {
    return InvalidArgument("AWS_CA_BUNDLE '" + ca_file + "' is not a readable file");
  }
  std::unique_ptr<AwsCredentialsProvider> provider;
  if (config.credentials) {
    provider = std::make_unique<StaticCredentialsProvider>(*config.credentials);
  } else if (!config.imds_endpoint.empty()) {
    provider = std::make_unique<InstanceProfileCredentialsProvider>(config.imds_endpoint,
                                                                    SystemClock::Get());
  } else {
    return InvalidArgument(
        "no AWS credentials for the S3 artifact store: set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, put keys in the AWS shared credentials or config file, or run "
        "on EC2 with an instance profile");
  }
  auto client = std::make_unique<S3Client>(config.client, std::move(provider), SystemClock::Get());
  return S3ArtifactStore::Open(std::move(client), config.store);
}

}  // namespace cairn::artifact
