#include "redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace cairn::redis {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Sha1Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(), nullptr);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kDigits[digest[i] >> 4];
    out += kDigits[digest[i] & 15];
  }
  return out;
}

// Runs a command on `context`; null reply means the connection broke (or timed out).
redisReply* Send(redisContext* context, const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(args.size()), argv.data(), lengths.data()));
}

}  // namespace

RedisScript::RedisScript(std::string script_text)
    : text(std::move(script_text)), sha1(Sha1Hex(text)) {}

RedisReply ConvertReply(const void* raw) {
  const auto* reply = static_cast<const redisReply*>(raw);
  RedisReply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(reply->elements);
      for (size_t i = 0; i < reply->elements; ++i) {
        out.elements.push_back(ConvertReply(reply->element[i]));
      }
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

void RedisClient::ContextDeleter::operator()(redisContext* context) const { redisFree(context); }

RedisClient::ContextPtr RedisClient::Connect(const RedisUri& uri, const RedisOptions& options,
                                             std::string& error) {
  ContextPtr context(
      redisConnectWithTimeout(uri.host.c_str(), uri.port, ToTimeval(options.connect_timeout)));
  if (context == nullptr) {
    error = "cannot allocate a Redis connection";
    return nullptr;
  }
  if (context->err != 0) {
    error = "cannot connect to " + uri.Redacted() + ": " + context->errstr;
    return nullptr;
  }
  redisSetTimeout(context.get(), ToTimeval(options.command_timeout));
  redisEnableKeepAlive(context.get());
  auto check = [&](const std::vector<std::string_view>& args, std::string_view what) {
    redisReply* reply = Send(context.get(), args);
    if (reply == nullptr) {
      error = std::string(what) + " failed on " + uri.Redacted() + ": " + context->errstr;
      return false;
    }
    const bool ok = reply->type != REDIS_REPLY_ERROR;
    if (!ok) error = std::string(what) + " refused by " + uri.Redacted() + ": " + reply->str;
    freeReplyObject(reply);
    return ok;
  };
  if (!uri.password.empty()) {
    std::vector<std::string_view> auth = {"AUTH"};
    if (!uri.user.empty()) auth.push_back(uri.user);
    auth.push_back(uri.password);
    if (!check(auth, "AUTH")) return nullptr;
  }
  if (uri.db != 0) {
    const std::string db = std::to_string(uri.db);
    if (!check({"SELECT", db}, "SELECT")) return nullptr;
  }
  if (!options.client_name.empty()) {
    std::string name = options.client_name.substr(0, 64);
    for (char& c : name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
        c = '_';
      }
    }
    if (!check({"CLIENT", "SETNAME", name}, "CLIENT SETNAME")) return nullptr;
  }
  return context;
}

RedisClient::RedisClient(RedisUri uri, RedisOptions options)
    : uri_(std::move(uri)), options_(options), backoff_(options.min_backoff) {}

RedisClient::~RedisClient() = default;

void RedisClient::MarkDown() {
  MutexLock lock(mu_);
  down_until_ns_ = NowNs() + std::chrono::nanoseconds(backoff_).count();
  backoff_ = std::min(options_.max_backoff, backoff_ * 2);
  idle_.clear();  // they lead to the same server that just failed
}

StatusOr<RedisClient::ContextPtr> RedisClient::Take(bool& reused) {
  {
    MutexLock lock(mu_);
    if (!idle_.empty()) {
      ContextPtr context = std::move(idle_.back());
      idle_.pop_back();
      reused = true;
      return context;
    }
    if (NowNs() < down_until_ns_) {
      return Unavailable("Redis at " + uri_.Redacted() + " is unreachable; retrying shortly");
    }
  }
  reused = false;
  std::string error;
  ContextPtr context = Connect(uri_, options_, error);
  if (context == nullptr) {
    MarkDown();
    return Unavailable(error);
  }
  MutexLock lock(mu_);
  backoff_ = options_.min_backoff;
  return context;
}

void RedisClient::Give(ContextPtr context) {
  MutexLock lock(mu_);
  if (idle_.size() < options_.max_idle) idle_.push_back(std::move(context));
}

StatusOr<RedisReply> RedisClient::Run(const std::vector<std::string_view>& args) {
  // A pooled connection may have died since its last use (Redis restarted): one more try, on a
  // fresh connection. The command cannot have run on a connection that was already closed.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = false;
    ASSIGN_OR_RETURN(ContextPtr context, Take(reused));
    redisReply* reply = Send(context.get(), args);
    if (reply == nullptr) {
      const bool timed_out =
          context->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
      std::string error =
          timed_out ? "no answer within " + std::to_string(options_.command_timeout.count()) + " ms"
                    : std::string(context->errstr);
      // A slow Redis is not retried: the caller must not wait twice.
      if (reused && attempt == 0 && !timed_out) continue;
      MarkDown();
      return Unavailable("Redis at " + uri_.Redacted() + ": " + error);
    }
    RedisReply converted = ConvertReply(reply);
    freeReplyObject(reply);
    Give(std::move(context));
    return converted;
  }
  return Unavailable("Redis at " + uri_.Redacted() + " is unreachable");
}

StatusOr<RedisReply> RedisClient::Command(const std::vector<std::string_view>& args) {
  ASSIGN_OR_RETURN(RedisReply reply, Run(args));
  if (reply.type == RedisReply::Type::kError) return Internal("Redis: " + reply.str);
  return reply;
}

StatusOr<RedisReply> RedisClient::Eval(const RedisScript& script,
                                       const std::vector<std::string_view>& keys,
                                       const std::vector<std::string_view>& args) {
  const std::string key_count = std::to_string(keys.size());
  std::vector<std::string_view> command = {"EVALSHA", script.sha1, key_count};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  ASSIGN_OR_RETURN(RedisReply reply, Run(command));
  if (reply.type == RedisReply::Type::kError && reply.str.starts_with("NOSCRIPT")) {
    command[0] = "EVAL";
    command[1] = script.text;
    ASSIGN_OR_RETURN(reply, Run(command));
  }
  if (reply.type == RedisReply::Type::kError) return Internal("Redis: " + reply.str);
  return reply;
}

StatusOr<int> KillClientsNamedForTest(RedisClient& client, std::string_view name) {
  ASSIGN_OR_RETURN(RedisReply list, client.Command({"CLIENT", "LIST"}));
  int killed = 0;
  std::string_view text = list.str;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const std::string wanted = " name=" + std::string(name) + " ";
    if (line.find(wanted) == std::string_view::npos) continue;
    size_t id_at = line.find("id=");
    if (id_at != 0) continue;
    std::string id(line.substr(3, line.find(' ') - 3));
    ASSIGN_OR_RETURN(RedisReply reply, client.Command({"CLIENT", "KILL", "ID", id}));
    killed += static_cast<int>(reply.integer);
  }
  return killed;
}

Status RedisClient::Ping() {
  ASSIGN_OR_RETURN(RedisReply reply, Command({"PING"}));
  (void)reply;
  return Status::Ok();
}

}  // namespace cairn::redis
