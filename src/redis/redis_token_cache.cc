#include "redis/redis_token_cache.h"

#include <boost/json.hpp>

namespace cairn::redis {
namespace {

// KEYS[1]: the generation counter. ARGV: the entry prefix, the token's hash.
const RedisScript& LookupScript() {
  static const auto* script = new RedisScript(R"lua(
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}
)lua");
  return *script;
}

bool IsHex64(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

RedisTokenCache::RedisTokenCache(RedisClient& client, std::string origin, std::string prefix)
    : client_(client),
      origin_(std::move(origin)),
      prefix_(std::move(prefix)),
      channel_("cairn:security:changed:" + std::to_string(client.uri().db)) {}

std::string RedisTokenCache::Encode(const auth::Identity& identity) {
  boost::json::array grants;
  if (identity.grants != nullptr) {
    for (const RoleGrant& grant : *identity.grants) {
      grants.push_back(
          boost::json::array{boost::json::string(grant.tenant), boost::json::string(grant.role)});
    }
  }
  boost::json::object out;
  out["principal"] = identity.principal;
  out["default_tenant"] = identity.default_tenant;
  out["expires_at_ms"] = identity.expires_at_ms;
  out["method"] = identity.method;
  out["grants"] = std::move(grants);
  return boost::json::serialize(out);
}

std::optional<auth::Identity> RedisTokenCache::Decode(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(json, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const boost::json::object& object = parsed.as_object();
  const auto* principal = object.if_contains("principal");
  const auto* tenant = object.if_contains("default_tenant");
  const auto* expires = object.if_contains("expires_at_ms");
  const auto* method = object.if_contains("method");
  const auto* grants = object.if_contains("grants");
  if (principal == nullptr || !principal->is_string() || tenant == nullptr ||
      !tenant->is_string() || expires == nullptr || !expires->is_int64() || method == nullptr ||
      !method->is_string() || grants == nullptr || !grants->is_array()) {
    return std::nullopt;
  }
  auth::Identity identity;
  identity.principal = std::string(principal->as_string());
  identity.default_tenant = std::string(tenant->as_string());
  identity.expires_at_ms = expires->as_int64();
  identity.method = std::string(method->as_string());
  auto list = std::make_shared<std::vector<RoleGrant>>();
  for (const boost::json::value& grant : grants->as_array()) {
    if (!grant.is_array() || grant.as_array().size() != 2 || !grant.as_array()[0].is_string() ||
        !grant.as_array()[1].is_string()) {
      return std::nullopt;
    }
    list->push_back({std::string(grant.as_array()[0].as_string()),
                     std::string(grant.as_array()[1].as_string())});
  }
  identity.grants = std::move(list);
  return identity;
}

StatusOr<auth::SharedTokenCache::Found> RedisTokenCache::Lookup(std::string_view token_sha256) {
  if (!IsHex64(token_sha256)) return InvalidArgument("not a SHA-256 hex digest");
  const std::string generation_key = prefix_ + "generation";
  ASSIGN_OR_RETURN(RedisReply reply,
                   client_.Eval(LookupScript(), {generation_key}, {prefix_, token_sha256}));
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 2 ||
      reply.elements[0].type != RedisReply::Type::kString) {
    return Internal("unexpected reply to the token lookup");
  }
  Found found;
  found.generation = reply.elements[0].str;
  if (reply.elements[1].type == RedisReply::Type::kString) {
    found.identity = Decode(reply.elements[1].str);
  }
  return found;
}

Status RedisTokenCache::Insert(std::string_view token_sha256, const auth::Identity& identity,
                               std::string_view generation, std::chrono::milliseconds ttl) {
  if (!IsHex64(token_sha256)) return InvalidArgument("not a SHA-256 hex digest");
  if (ttl.count() <= 0) return Status::Ok();
  const std::string key = prefix_ + std::string(generation) + ":" + std::string(token_sha256);
  const std::string value = Encode(identity);
  const std::string ms = std::to_string(ttl.count());
  ASSIGN_OR_RETURN(RedisReply reply, client_.Command({"SET", key, value, "PX", ms}));
  (void)reply;
  return Status::Ok();
}

Status RedisTokenCache::InvalidateAll() {
  const std::string generation_key = prefix_ + "generation";
  ASSIGN_OR_RETURN(RedisReply bumped, client_.Command({"INCR", generation_key}));
  (void)bumped;
  ASSIGN_OR_RETURN(RedisReply published, client_.Command({"PUBLISH", channel_, origin_}));
  (void)published;
  return Status::Ok();
}

}  // namespace cairn::redis
