#include "artifact/s3/s3_client.h"

#include <openssl/evp.h>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <charconv>
#include <chrono>
#include <random>
#include <sstream>
#include <thread>

#include "artifact/s3/sigv4_signer.h"

namespace cairn::artifact {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

StatusOr<boost::property_tree::ptree> ParseXml(const std::string& body, std::string_view what) {
  try {
    std::istringstream in(body);
    boost::property_tree::ptree tree;
    boost::property_tree::read_xml(in, tree);
    return tree;
  } catch (const std::exception& e) {
    return Internal("unreadable S3 answer to " + std::string(what) + ": " + e.what());
  }
}

// The text of the first <tag>...</tag>, or "" (for error documents, which are flat).
std::string XmlTag(std::string_view body, std::string_view tag) {
  std::string open = "<" + std::string(tag) + ">";
  size_t begin = body.find(open);
  if (begin == std::string_view::npos) return "";
  begin += open.size();
  size_t end = body.find("</" + std::string(tag) + ">", begin);
  if (end == std::string_view::npos) return "";
  return std::string(body.substr(begin, end - begin));
}

std::string XmlEscape(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Md5Base64(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_md5(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, static_cast<int>(size));
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

bool Retryable(const HttpResponse& response) {
  // 501 NotImplemented and other 5xx that are not about load or transport stay failures.
  if (response.status == 500 || response.status == 502 || response.status == 503 ||
      response.status == 504 || response.status == 429) {
    return true;
  }
  if (response.status == 400) {
    std::string code = XmlTag(response.body, "Code");
    return code == "RequestTimeout" || code == "SlowDown";
  }
  return false;
}

// A decimal size; 0 for anything else (an absent, malformed or out-of-range header).
uint64_t ParseSize(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() ? value : 0;
}

std::string Authority(std::string_view endpoint) {
  size_t scheme_end = endpoint.find("://");
  return std::string(scheme_end == std::string_view::npos ? endpoint
                                                          : endpoint.substr(scheme_end + 3));
}

}  // namespace

S3Client::S3Client(S3ClientOptions options, std::unique_ptr<AwsCredentialsProvider> credentials,
                   Clock& clock)
    : options_(std::move(options)),
      credentials_(std::move(credentials)),
      clock_(clock),
      http_(options_.http),
      sleep_([](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }) {}

StatusOr<HttpResponse> S3Client::Send(const std::string& method, const std::string& key,
                                      Pairs query, Pairs headers, std::string_view body) {
  std::string scheme_end = options_.endpoint.substr(0, options_.endpoint.find("://") + 3);
  std::string host = Authority(options_.endpoint);
  std::string path;
  if (options_.path_style) {
    path = "/" + AwsUriEncode(options_.bucket, false);
    if (!key.empty()) path += "/" + AwsUriEncode(key, true);
  } else {
    host = options_.bucket + "." + host;
    path = "/" + AwsUriEncode(key, true);
  }
  std::vector<std::pair<std::string, std::string>> encoded_query;
  for (const auto& [k, v] : query) {
    encoded_query.emplace_back(AwsUriEncode(k, false), AwsUriEncode(v, false));
  }
  std::sort(encoded_query.begin(), encoded_query.end());
  std::string url = scheme_end + host + path;
  for (size_t i = 0; i < encoded_query.size(); ++i) {
    url += (i == 0 ? "?" : "&") + encoded_query[i].first + "=" + encoded_query[i].second;
  }
  const std::string payload_hash = Sha256Hex(body);

  static thread_local std::mt19937_64 rng(std::random_device{}());
  StatusOr<HttpResponse> last = Unavailable("no attempt made");
  for (int attempt = 0; attempt < std::max(1, options_.max_attempts); ++attempt) {
    if (attempt > 0) {
      int64_t backoff = options_.initial_backoff_ms << std::min(attempt - 1, 20);
      backoff = std::min(backoff, options_.max_backoff_ms);
      std::uniform_int_distribution<int64_t> jitter(backoff / 2, backoff);
      sleep_(jitter(rng));
    }
    ASSIGN_OR_RETURN(AwsCredentials credentials, credentials_->Get());
    std::string amz_date = AmzDate(clock_.NowMillis() / 1000);
    SigV4Request request{method, path, query, headers, payload_hash};
    request.headers.emplace_back("host", host);
    request.headers.emplace_back("x-amz-date", amz_date);
    request.headers.emplace_back("x-amz-content-sha256", payload_hash);
    if (!credentials.session_token.empty()) {
      request.headers.emplace_back("x-amz-security-token", credentials.session_token);
    }
    SigV4Result signature = SignV4(request, credentials, options_.region, "s3", amz_date);
    HttpRequest http{method, url, std::move(request.headers), body};
    http.headers.emplace_back("authorization", signature.authorization);
    last = http_.Perform(http);
    if (last.ok() && !Retryable(*last)) return last;
  }
  if (!last.ok()) {
    return Unavailable(last.status().message() + " (after " +
                       std::to_string(options_.max_attempts) + " attempts)");
  }
  return last;
}

Status S3Client::ErrorOf(const HttpResponse& response, std::string_view what) const {
  std::string code = XmlTag(response.body, "Code");
  std::string message = XmlTag(response.body, "Message");
  std::string detail = std::string(what) + " in s3://" + options_.bucket + ": HTTP " +
                       std::to_string(response.status) + (code.empty() ? "" : " " + code) +
                       (message.empty() ? "" : " (" + message + ")");
  if (code == "NoSuchBucket") {
    return InvalidArgument("S3 bucket '" + options_.bucket + "' does not exist (" + detail + ")");
  }
  switch (response.status) {
    case 404:
      return NotFound(detail);
    case 401:
    case 403:
      return Status(StatusCode::kPermissionDenied,
                    "S3 refused the request; check the credentials (AWS_ACCESS_KEY_ID, "
                    "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the region and the bucket "
                    "policy: " +
                        detail);
    case 412:
      return FailedPrecondition(detail);
    default:
      break;
  }
  if (Retryable(response)) return Unavailable(detail);
  return Internal(detail);
}

StatusOr<std::optional<uint64_t>> S3Client::HeadObject(const std::string& key) {
  ASSIGN_OR_RETURN(HttpResponse response, Send("HEAD", key, {}, {}, ""));
  if (response.status == 404) {
    // A HEAD has no body to tell a missing key from a missing bucket; the store checks the
    // bucket once at start-up.
    return std::optional<uint64_t>();
  }
  if (response.status != 200) return ErrorOf(response, "HEAD " + key);
  return std::optional<uint64_t>(ParseSize(response.Header("content-length")));
}

Status S3Client::PutObject(const std::string& key, std::string_view body) {
  ASSIGN_OR_RETURN(HttpResponse response, Send("PUT", key, {}, {}, body));
  if (response.status != 200) return ErrorOf(response, "PUT " + key);
  return Status::Ok();
}

StatusOr<S3Range> S3Client::GetRange(const std::string& key, uint64_t offset, uint64_t length,
                                     const std::string& if_match) {
  Pairs headers = {{"range", "bytes=" + std::to_string(offset) + "-" +
                                 std::to_string(offset + std::max<uint64_t>(length, 1) - 1)}};
  if (!if_match.empty()) headers.emplace_back("if-match", if_match);
  ASSIGN_OR_RETURN(HttpResponse response, Send("GET", key, {}, std::move(headers), ""));
  S3Range range;
  range.etag = response.Header("etag");
  std::string content_range = response.Header("content-range");
  size_t slash = content_range.rfind('/');
  if (response.status == 206 && slash != std::string::npos) {
    range.object_size = ParseSize(std::string_view(content_range).substr(slash + 1));
    range.body = std::move(response.body);
    return range;
  }
  if (response.status == 200) {  // the whole object: the server ignored the range
    range.object_size = response.body.size();
    range.body = offset < response.body.size()
                     ? response.body.substr(
                           offset, std::min<uint64_t>(length, response.body.size() - offset))
                     : "";
    return range;
  }
  if (response.status == 416) {  // a range past the end, e.g. of an empty object
    range.object_size = slash == std::string::npos
                            ? 0
                            : ParseSize(std::string_view(content_range).substr(slash + 1));
    return range;
  }
  return ErrorOf(response, "GET " + key);
}

StatusOr<S3ListPage> S3Client::ListObjects(const std::string& prefix, const std::string& delimiter,
                                           const std::string& continuation_token, int max_keys) {
  Pairs query = {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(max_keys)}};
  if (!delimiter.empty()) query.emplace_back("delimiter", delimiter);
  if (!continuation_token.empty()) query.emplace_back("continuation-token", continuation_token);
  ASSIGN_OR_RETURN(HttpResponse response, Send("GET", "", std::move(query), {}, ""));
  if (response.status != 200) return ErrorOf(response, "LIST " + prefix);
  ASSIGN_OR_RETURN(boost::property_tree::ptree tree, ParseXml(response.body, "ListObjectsV2"));
  S3ListPage page;
  auto result = tree.get_child_optional("ListBucketResult");
  if (!result) return Internal("S3 answered ListObjectsV2 without a ListBucketResult");
  bool truncated = false;
  for (const auto& [name, child] : *result) {
    if (name == "Contents") {
      page.objects.push_back(
          {child.get<std::string>("Key", ""), ParseSize(child.get<std::string>("Size", ""))});
    } else if (name == "CommonPrefixes") {
      page.common_prefixes.push_back(child.get<std::string>("Prefix", ""));
    } else if (name == "NextContinuationToken") {
      page.next_continuation_token = child.data();
    } else if (name == "IsTruncated") {
      truncated = child.data() == "true";
    }
  }
  if (!truncated) page.next_continuation_token.clear();
  if (truncated && page.next_continuation_token.empty()) {
    return Internal("S3 answered a truncated listing without a continuation token");
  }
  return page;
}

Status S3Client::DeleteObjects(const std::vector<std::string>& keys) {
  if (keys.empty()) return Status::Ok();
  std::string body =
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
  for (const std::string& key : keys) body += "<Object><Key>" + XmlEscape(key) + "</Key></Object>";
  body += "</Delete>";
  ASSIGN_OR_RETURN(
      HttpResponse response,
      Send("POST", "", {{"delete", ""}},
           {{"content-md5", Md5Base64(body)}, {"content-type", "application/xml"}}, body));
  if (response.status != 200) return ErrorOf(response, "DeleteObjects");
  if (response.body.find("<Error>") != std::string::npos) {
    return Internal("S3 could not delete some keys: " + XmlTag(response.body, "Key") + ": " +
                    XmlTag(response.body, "Code") + " " + XmlTag(response.body, "Message"));
  }
  return Status::Ok();
}

StatusOr<std::string> S3Client::CreateMultipartUpload(const std::string& key) {
  ASSIGN_OR_RETURN(HttpResponse response, Send("POST", key, {{"uploads", ""}}, {}, ""));
  if (response.status != 200) return ErrorOf(response, "CreateMultipartUpload " + key);
  ASSIGN_OR_RETURN(boost::property_tree::ptree tree,
                   ParseXml(response.body, "CreateMultipartUpload"));
  std::string upload_id = tree.get<std::string>("InitiateMultipartUploadResult.UploadId", "");
  if (upload_id.empty()) return Internal("S3 started a multipart upload without an UploadId");
  return upload_id;
}

StatusOr<std::string> S3Client::UploadPart(const std::string& key, const std::string& upload_id,
                                           int part_number, std::string_view body) {
  ASSIGN_OR_RETURN(
      HttpResponse response,
      Send("PUT", key, {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}}, {},
           body));
  if (response.status != 200) return ErrorOf(response, "UploadPart " + key);
  std::string etag = response.Header("etag");
  if (etag.empty()) return Internal("S3 accepted a part of " + key + " without an ETag");
  return etag;
}

Status S3Client::CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                         const std::vector<std::string>& part_etags) {
  std::string body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (size_t i = 0; i < part_etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
            XmlEscape(part_etags[i]) + "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  ASSIGN_OR_RETURN(HttpResponse response, Send("POST", key, {{"uploadId", upload_id}},
                                               {{"content-type", "application/xml"}}, body));
  // S3 may answer 200 and still fail, with an <Error> document in the body.
  if (response.status != 200 || response.body.find("<Error>") != std::string::npos) {
    if (response.status == 200) response.status = 500;
    return ErrorOf(response, "CompleteMultipartUpload " + key);
  }
  return Status::Ok();
}

Status S3Client::AbortMultipartUpload(const std::string& key, const std::string& upload_id) {
  ASSIGN_OR_RETURN(HttpResponse response, Send("DELETE", key, {{"uploadId", upload_id}}, {}, ""));
  if (response.status != 204 && response.status != 200 && response.status != 404) {
    return ErrorOf(response, "AbortMultipartUpload " + key);
  }
  return Status::Ok();
}

}  // namespace cairn::artifact
