#include "artifact/s3/sigv4_signer.h"

#include <gtest/gtest.h>

namespace cairn::artifact {
namespace {

const AwsCredentials kExampleKeys{"AKIAIOSFODNN7EXAMPLE",
                                  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The GetObject example of the S3 documentation ("Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk").
TEST(SigV4SignerTest, MatchesTheS3DocumentationGetObjectExample) {
  SigV4Request request{"GET",
                       "/test.txt",
                       {},
                       {{"Host", "examplebucket.s3.amazonaws.com"},
                        {"Range", "bytes=0-9"},
                        {"x-amz-content-sha256", kEmptySha256},
                        {"x-amz-date", "20130524T000000Z"}},
                       kEmptySha256};
  SigV4Result result = SignV4(request, kExampleKeys, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(result.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
      << result.canonical_request;
  EXPECT_EQ(result.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// The ListObjects example of the same page: query parameters are encoded and sorted.
TEST(SigV4SignerTest, MatchesTheS3DocumentationListObjectsExample) {
  SigV4Request request{"GET",
                       "/",
                       {{"prefix", "J"}, {"max-keys", "2"}},
                       {{"Host", "examplebucket.s3.amazonaws.com"},
                        {"x-amz-content-sha256", kEmptySha256},
                        {"x-amz-date", "20130524T000000Z"}},
                       kEmptySha256};
  SigV4Result result = SignV4(request, kExampleKeys, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(result.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
      << result.canonical_request;
}

TEST(SigV4SignerTest, CanonicalRequestFoldsHeaderSpacesAndEncodesQuery) {
  SigV4Request request{"PUT",
                       "/bucket/a%20b",
                       {{"uploadId", "x/y+z"}, {"partNumber", "1"}},
                       {{"X-Amz-Meta-Note", "  two   spaces  "}, {"host", "h:9000"}},
                       "UNSIGNED-PAYLOAD"};
  SigV4Result result = SignV4(request, kExampleKeys, "eu-west-1", "s3", "20240102T030405Z");
  EXPECT_EQ(result.canonical_request,
            "PUT\n/bucket/a%20b\npartNumber=1&uploadId=x%2Fy%2Bz\nhost:h:9000\n"
            "x-amz-meta-note:two spaces\n\nhost;x-amz-meta-note\nUNSIGNED-PAYLOAD");
  EXPECT_NE(result.string_to_sign.find("20240102/eu-west-1/s3/aws4_request"), std::string::npos);
}

TEST(SigV4SignerTest, UriEncodingKeepsOnlyUnreservedBytes) {
  EXPECT_EQ(AwsUriEncode("a b/c~d_e-f.g", true), "a%20b/c~d_e-f.g");
  EXPECT_EQ(AwsUriEncode("a b/c", false), "a%20b%2Fc");
  EXPECT_EQ(AwsUriEncode("\xc3\xa9+*", false), "%C3%A9%2B%2A");
}

TEST(SigV4SignerTest, AmzDateIsUtc) { EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z"); }

}  // namespace
}  // namespace cairn::artifact
