// HttpServer tests, part 1: routing, the HTTP/1.1 protocol, bodies (buffered, streamed, limited)
// and errors (fixture in server_test_fixture.h; part 2 in server_lifecycle_test.cc).

#include "http/server_test_fixture.h"

namespace cairn::http {
namespace {

TEST_F(ServerTest, ServesSimpleGetWithServerHeader) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/hello");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "hello");
  EXPECT_EQ(response[bhttp::field::server], "cairn");
  EXPECT_EQ(response[bhttp::field::content_type], "text/plain; charset=utf-8");
  EXPECT_EQ(response[bhttp::field::content_length], "5");
  EXPECT_FALSE(response[bhttp::field::date].empty());
  EXPECT_TRUE(response.keep_alive());
}

TEST_F(ServerTest, RoutesPathParamsAndDecodesQuery) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/items/42?a=1&b=x+y%21&a=2&flag");
  ASSERT_EQ(response.result_int(), 200) << response.body();
  auto body = JsonOf(response);
  EXPECT_EQ(Str(body["id"]), "42");
  EXPECT_EQ(Str(body["route"]), "/items/{id}");
  EXPECT_EQ(boost::json::serialize(body["query"]),
            R"([["a","1"],["b","x y!"],["a","2"],["flag",""]])");
}

TEST_F(ServerTest, EncodedSlashStaysInOneSegment) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/items/team%2Fmodel%20v1");
  ASSERT_EQ(response.result_int(), 200) << response.body();
  auto body = JsonOf(response);
  EXPECT_EQ(Str(body["id"]), "team/model v1");
  EXPECT_EQ(Str(body["path"]), "/items/team/model v1");
  EXPECT_EQ(client.Get("/items/team/model").result_int(), 404);
  auto rest = client.Get("/files/a/b%20c/d%2Fe.txt");
  EXPECT_EQ(rest.body(), "a/b c/d/e.txt");
  auto empty_rest = client.Get("/files/");
  EXPECT_EQ(empty_rest.result_int(), 200);
  EXPECT_EQ(empty_rest.body(), "");
}

TEST_F(ServerTest, MalformedPercentEncodingGives400) {
  StartServer();
  TestClient client(port_);
  auto bad_path = client.Get("/items/%zz");
  EXPECT_EQ(bad_path.result_int(), 400);
  EXPECT_EQ(Str(JsonOf(bad_path)["error_code"]), "INVALID_PARAMETER_VALUE");
  auto bad_query = client.Get("/items/1?a=%4");
  EXPECT_EQ(bad_query.result_int(), 400);
  // The connection is still fine.
  EXPECT_EQ(client.Get("/hello").result_int(), 200);
}

TEST_F(ServerTest, UnknownRouteGivesEndpointNotFoundEnvelope) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/api/2.0/mlflow/nope?x=1");
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  EXPECT_EQ(
      response.body(),
      R"({"error_code":"ENDPOINT_NOT_FOUND","message":"No API route for GET /api/2.0/mlflow/nope"})");
}

TEST_F(ServerTest, UnknownRouteWithSmallBodyKeepsConnection) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::post, "/api/3.0/mlflow/new", std::string(5000, 'x'));
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, WrongMethodGives405) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::delete_, "/hello");
  EXPECT_EQ(response.result_int(), 405);
  auto body = JsonOf(response);
  EXPECT_EQ(Str(body["error_code"]), "BAD_REQUEST");
  EXPECT_EQ(Str(body["message"]), "Method DELETE is not allowed for /hello");
  auto patterned = client.Do(bhttp::verb::post, "/items/7");
  EXPECT_EQ(patterned.result_int(), 405);
  EXPECT_EQ(client.Get("/hello").result_int(), 200);
}

TEST_F(ServerTest, HeadRunsGetHandlerWithoutBody) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::head, "/files/abc/def");
  EXPECT_EQ(response.result_int(), 200);
  // The GET length, but no body bytes: the next response parses cleanly.
  EXPECT_EQ(response[bhttp::field::content_length], "7");
  EXPECT_EQ(response.body(), "");
  EXPECT_EQ(client.Get("/files/abc/def").body(), "abc/def");
  // The handler is told the truth about the method.
  auto head_items = client.Do(bhttp::verb::head, "/items/9");
  auto get_items = client.Get("/items/9");
  EXPECT_EQ(Str(JsonOf(get_items)["method"]), "GET");
  EXPECT_EQ(head_items[bhttp::field::content_length],
            std::to_string(get_items.body().size() + 1));  // "HEAD" is one longer than "GET"
  auto head_stream = client.Do(bhttp::verb::head, "/download/1000");
  EXPECT_EQ(head_stream[bhttp::field::content_length], "1000");
  EXPECT_EQ(client.Get("/hello").body(), "hello");
  EXPECT_EQ(client.Do(bhttp::verb::head, "/nope").result_int(), 404);
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  TestClient client(port_);
  for (int i = 0; i < 50; ++i) {
    auto response = client.Get("/items/" + std::to_string(i));
    ASSERT_EQ(response.result_int(), 200);
    ASSERT_EQ(Str(JsonOf(response)["id"]), std::to_string(i));
  }
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  TestClient client(port_);
  client.Send(
      "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /items/3 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(Str(JsonOf(client.Read())["id"]), "1");
  EXPECT_EQ(client.Read().body(), "abc");
  EXPECT_EQ(Str(JsonOf(client.Read())["id"]), "3");
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAliveAsked) {
  StartServer();
  {
    TestClient client(port_);
    auto response = client.Do(bhttp::verb::get, "/hello", "", {}, 10);
    EXPECT_EQ(response.body(), "hello");
    EXPECT_EQ(response.version(), 10u);
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    TestClient client(port_);
    auto first = client.Do(bhttp::verb::get, "/hello", "", {{"Connection", "keep-alive"}}, 10);
    EXPECT_TRUE(first.keep_alive());
    auto second = client.Do(bhttp::verb::get, "/hello", "", {{"Connection", "keep-alive"}}, 10);
    EXPECT_EQ(second.body(), "hello");
  }
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::get, "/hello", "", {{"Connection", "close"}});
  EXPECT_EQ(response.body(), "hello");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(ServerTest, ExpectContinueSendsContinueBeforeBody) {
  StartServer();
  TestClient client(port_);
  client.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.ReadUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  client.Send("hello world");
  auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "hello world");
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, ExpectContinueOnUnknownRouteGetsFinalAnswerOnly) {
  StartServer();
  TestClient client(port_);
  client.Send(
      "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
  auto response = client.Read();
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(ServerTest, OversizedBodyGets413WithoutReadingIt) {
  StartServer();
  {
    // With Expect: the final 413 comes instead of 100 Continue.
    TestClient client(port_);
    client.Send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\nExpect: "
        "100-continue\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 413);
    EXPECT_EQ(Str(JsonOf(response)["error_code"]), "REQUEST_LIMIT_EXCEEDED");
    EXPECT_FALSE(response.keep_alive());
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    // Without Expect and without ever sending the body: answered at once.
    TestClient client(port_);
    client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 413);
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    // At the limit is fine.
    TestClient client(port_);
    auto response = client.Do(bhttp::verb::post, "/echo", std::string(1000, 'z'));
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response["X-Body-Size"], "1000");
  }
}

TEST_F(ServerTest, ChunkedRequestBodiesAreReadAndLimited) {
  StartServer();
  {
    TestClient client(port_);
    client.Send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "hello world");
    EXPECT_EQ(client.Get("/hello").body(), "hello");
  }
  {
    TestClient client(port_);
    std::string chunk(600, 'q');
    client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" +
                chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 413);
    EXPECT_TRUE(client.WaitForClose());
  }
}

TEST_F(ServerTest, StreamingUploadWritesChunksToSink) {
  StartServer();
  TestClient client(port_);
  std::string body = Pattern(2'000'000);
  auto response = client.Do(bhttp::verb::put, "/upload/big", body);
  ASSERT_EQ(response.result_int(), 201) << response.body();
  EXPECT_EQ(JsonOf(response)["bytes"].as_int64(), 2'000'000);
  auto log = sink_log();
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->finished);
  EXPECT_FALSE(log->aborted);
  EXPECT_GT(log->Writes(), 1);
  EXPECT_EQ(log->Data(), body);
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, StreamingUploadChunkedWithExpectContinue) {
  StartServer();
  TestClient client(port_);
  client.Send(
      "PUT /upload/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: "
      "100-continue\r\n\r\n");
  EXPECT_EQ(client.ReadUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  client.Send("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  auto response = client.Read();
  EXPECT_EQ(response.result_int(), 201);
  EXPECT_EQ(sink_log()->Data(), "abcde");
}

TEST_F(ServerTest, StreamingUploadOverLimitAbortsWith413) {
  StartServer();
  {
    // Declared too large: refused before the handler runs.
    TestClient client(port_);
    client.Send("PUT /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3000001\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 413);
    EXPECT_FALSE(sink_log());
  }
  {
    // Chunked: found out while streaming.
    TestClient client(port_);
    client.Send("PUT /upload/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    std::string chunk = Pattern(500'000);
    for (int i = 0; i < 7; ++i) client.Send("7A120\r\n" + chunk + "\r\n");
    client.Send("0\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 413);
    auto log = sink_log();
    ASSERT_TRUE(log);
    EXPECT_TRUE(log->aborted);
    EXPECT_FALSE(log->finished);
    EXPECT_LE(log->Data().size(), 3'000'000u);
  }
}

TEST_F(ServerTest, StreamingHandlerErrorBecomesErrorResponse) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::put, "/upload/refuse", "data");
  EXPECT_EQ(response.result_int(), 403);
  EXPECT_EQ(Str(JsonOf(response)["error_code"]), "PERMISSION_DENIED");
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, StreamingSinkWriteErrorAbortsAndAnswers) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::put, "/upload/small-sink", Pattern(600'000));
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(Str(JsonOf(response)["message"]), "sink is full");
  EXPECT_TRUE(sink_log()->aborted);
  EXPECT_FALSE(sink_log()->finished);
}

TEST_F(ServerTest, ClientDisconnectMidUploadAbortsSink) {
  StartServer();
  {
    TestClient client(port_);
    client.Send("PUT /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
    client.Send(Pattern(1000));
    for (int i = 0; i < 200 && !sink_log(); ++i) std::this_thread::sleep_for(10ms);
  }
  auto log = sink_log();
  ASSERT_TRUE(log);
  for (int i = 0; i < 500 && !log->aborted; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(log->aborted);
  EXPECT_FALSE(log->finished);
}

TEST_F(ServerTest, StreamingDownloadWithKnownSize) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/download/1000000");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response[bhttp::field::content_length], "1000000");
  EXPECT_FALSE(response.chunked());
  EXPECT_EQ(response[bhttp::field::content_type], "application/octet-stream");
  EXPECT_EQ(response.body(), Pattern(1'000'000));
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, StreamingDownloadWithUnknownSizeIsChunked) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/download/700001?known=false");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_TRUE(response.chunked());
  EXPECT_EQ(response.body(), Pattern(700'001));
  auto empty = client.Get("/download/0?known=false");
  EXPECT_EQ(empty.body(), "");
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, StreamingDownloadOverHttp10EndsWithClose) {
  StartServer();
  TestClient client(port_);
  client.Send("GET /download/5000?known=false HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  auto response = client.Read();
  EXPECT_EQ(response.body(), Pattern(5000));
  EXPECT_FALSE(response.keep_alive());
}

TEST_F(ServerTest, NoContentHasNoBody) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/no-content");
  EXPECT_EQ(response.result_int(), 204);
  EXPECT_EQ(response.body(), "");
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, ThrowingHandlerGives500AndServerKeepsServing) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/throw");
  EXPECT_EQ(response.result_int(), 500);
  auto body = JsonOf(response);
  EXPECT_EQ(Str(body["error_code"]), "INTERNAL_ERROR");
  EXPECT_EQ(Str(body["message"]).find("exploded"), std::string::npos);
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(client.Get("/hello").body(), "hello");
  TestClient other(port_);
  EXPECT_EQ(other.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, MalformedRequestGets400AndClose) {
  StartServer();
  {
    TestClient client(port_);
    client.Send("THIS IS NOT HTTP\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 400);
    EXPECT_EQ(Str(JsonOf(response)["error_code"]), "INVALID_PARAMETER_VALUE");
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    TestClient client(port_);
    client.Send("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 400);
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    TestClient client(port_);
    client.Send("GET /hello HTTP/1.1\r\nX-Big: " + std::string(70'000, 'a') + "\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 400);
    EXPECT_TRUE(client.WaitForClose());
  }
  TestClient client(port_);
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

}  // namespace
}  // namespace cairn::http
