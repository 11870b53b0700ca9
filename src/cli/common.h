#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

// Pieces shared by the client subcommands (`cairn models`, `cairn deployments`): reading fields
// out of the server's JSON answers, turning server text into one safe line, error envelopes and
// the choice of server. All pure.
namespace cairn::cli {

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:5000";

// A field as text: strings as they are, integers in decimal, anything else (or absent) "".
std::string JsonText(const boost::json::object& obj, std::string_view key);

// An integer field; 0 when absent or not an integer.
int64_t JsonInt(const boost::json::object& obj, std::string_view key);

// "-" for an empty cell.
std::string OrDash(const std::string& s);

// `text` with control characters replaced by spaces, so it prints as one line.
std::string OneLine(std::string_view text);

// INTERNAL "unexpected answer from the server: <first 200 bytes>".
Status UnexpectedAnswer(std::string_view body);

// The body as a JSON object; UnexpectedAnswer otherwise.
StatusOr<boost::json::object> ParseJsonObject(std::string_view body);

// One line for a failed answer, "error: <error_code>: <message>", from MLflow's error envelope
// (or the Open Inference Protocol's {"error": "..."}); "error: HTTP <status>: <body>" when the
// body is neither.
std::string FormatError(int status, std::string_view body);

// The server URL to use: `flag` when given, else `env` (CAIRN_SERVER) when set and not empty,
// else kDefaultServer. INVALID_ARGUMENT when it is not a URL ParseServerAddress accepts.
StatusOr<std::string> ChooseServer(const std::string& flag, const std::optional<std::string>& env);

}  // namespace cairn::cli
