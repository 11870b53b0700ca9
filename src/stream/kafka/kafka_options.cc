#include "stream/kafka/kafka_options.h"

#include <charconv>
#include <string_view>

#include "stream/event_stream.h"

namespace cairn::stream {
namespace {

Status ParseInt(std::string_view key, std::string_view text, int64_t min, int64_t max,
                int64_t& out) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return InvalidArgument("kafka URI: " + std::string(key) + " must be an integer in [" +
                           std::to_string(min) + ", " + std::to_string(max) + "], not '" +
                           std::string(text) + "'");
  }
  out = value;
  return Status::Ok();
}

Status ParseInt32(std::string_view key, std::string_view text, int64_t min, int64_t max, int& out) {
  int64_t value = 0;
  RETURN_IF_ERROR(ParseInt(key, text, min, max, value));
  out = static_cast<int>(value);
  return Status::Ok();
}

}  // namespace

StatusOr<KafkaOptions> KafkaOptions::FromUri(const Uri& uri) {
  if (uri.scheme != "kafka") return InvalidArgument("not a kafka:// URI: " + uri.ToString());
  KafkaOptions options;
  ASSIGN_OR_RETURN(options.brokers, PercentDecode(uri.authority));
  if (options.brokers.empty()) {
    return InvalidArgument("kafka URI names no broker: kafka://host:port/topic-prefix");
  }
  if (options.brokers.find('@') != std::string::npos) {
    return InvalidArgument(
        "kafka URI: credentials go in rdkafka.sasl.username / rdkafka.sasl.password, not in the "
        "authority");
  }
  std::string_view path = uri.path;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty()) options.prefix = std::string(path);
  // The longest Cairn topic name must still fit Kafka's 249 characters after the prefix.
  if (!IsValidTopicName(options.prefix) || options.prefix.size() > 200) {
    return InvalidArgument("kafka URI: the topic prefix '" + options.prefix +
                           "' must be 1 to 200 characters from [a-zA-Z0-9._-]");
  }
  std::string_view query = uri.query;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("kafka URI: '" + std::string(pair) + "' has no value");
    }
    ASSIGN_OR_RETURN(std::string key, PercentDecode(pair.substr(0, eq), PlusSign::kSpace));
    ASSIGN_OR_RETURN(std::string value, PercentDecode(pair.substr(eq + 1), PlusSign::kSpace));
    if (key == "linger_ms") {
      RETURN_IF_ERROR(ParseInt32(key, value, 0, 900000, options.linger_ms));
    } else if (key == "batch_bytes") {
      RETURN_IF_ERROR(ParseInt(key, value, 1, 2147483647, options.batch_bytes));
    } else if (key == "buffer_messages") {
      RETURN_IF_ERROR(ParseInt(key, value, 1, 2147483647, options.buffer_messages));
    } else if (key == "buffer_kbytes") {
      RETURN_IF_ERROR(ParseInt(key, value, 1, 2147483647, options.buffer_kbytes));
    } else if (key == "delivery_timeout_ms") {
      RETURN_IF_ERROR(ParseInt32(key, value, 1, 2147483647, options.delivery_timeout_ms));
    } else if (key == "request_timeout_ms") {
      RETURN_IF_ERROR(ParseInt32(key, value, 100, 3600000, options.request_timeout_ms));
    } else if (key == "compression") {
      if (value != "none" && value != "gzip" && value != "snappy" && value != "lz4" &&
          value != "zstd") {
        return InvalidArgument("kafka URI: compression must be none, gzip, snappy, lz4 or zstd");
      }
      options.compression = value;
    } else if (key == "partitions") {
      RETURN_IF_ERROR(ParseInt32(key, value, -1, 10000, options.partitions));
      if (options.partitions == 0) {
        return InvalidArgument("kafka URI: partitions must be -1 or at least 1");
      }
    } else if (key == "replication_factor") {
      RETURN_IF_ERROR(ParseInt32(key, value, -1, 32767, options.replication_factor));
      if (options.replication_factor == 0) {
        return InvalidArgument("kafka URI: replication_factor must be -1 or at least 1");
      }
    } else if (key == "session_timeout_ms") {
      RETURN_IF_ERROR(ParseInt32(key, value, 100, 3600000, options.session_timeout_ms));
    } else if (key.starts_with("rdkafka.") && key.size() > 8) {
      options.extra.emplace_back(key.substr(8), value);
    } else {
      return InvalidArgument("kafka URI: unknown option '" + key + "'");
    }
  }
  return options;
}

}  // namespace cairn::stream
