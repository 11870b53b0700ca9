#pragma once

// Internal to cairn_auth_jwt (and its tests): the strict decoders the verifier and the JWKS
// loader share. Not part of the integrator-facing API.

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn::auth::internal {

// base64url (RFC 4648 section 5) without padding, as JWS compact serialization requires
// (RFC 7515 section 2). Rejects '=', characters outside the alphabet, a length of 1 mod 4 and
// non-zero unused trailing bits, so that every byte string has exactly one accepted encoding.
// INVALID_ARGUMENT naming `what` on failure.
StatusOr<std::string> Base64UrlDecode(std::string_view in, std::string_view what);
std::string Base64UrlEncode(std::string_view bytes);

// Parses `text` as one JSON object. Rejects anything else: other JSON types, invalid UTF-8,
// trailing data, nesting deeper than 32, and an object (at any depth) with two members of the
// same name after unescaping. Boost.JSON keeps the last of duplicate names silently; a JWT
// whose claims two parsers could read differently must not verify (RFC 7515 section 5.2 and
// RFC 7519 section 4 allow rejecting them). INVALID_ARGUMENT naming `what` on failure.
StatusOr<boost::json::object> ParseStrictJsonObject(std::string_view text, std::string_view what);

}  // namespace cairn::auth::internal
