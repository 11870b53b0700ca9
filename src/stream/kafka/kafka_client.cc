#include "stream/kafka/kafka_client.h"

#include <spdlog/spdlog.h>

namespace cairn::stream::kafka {
namespace {

// librdkafka's log lines (syslog levels) go to the server's log instead of stderr.
void LogToSpdlog(const rd_kafka_t* /*rk*/, int level, const char* facility, const char* text) {
  if (level <= 3) {
    spdlog::error("kafka {}: {}", facility, text);
  } else if (level <= 4) {
    spdlog::warn("kafka {}: {}", facility, text);
  } else if (level <= 6) {
    spdlog::info("kafka {}: {}", facility, text);
  } else {
    spdlog::debug("kafka {}: {}", facility, text);
  }
}

}  // namespace

StatusOr<Handle> CreateClient(rd_kafka_type_t type, const KafkaOptions& options,
                              const Properties& properties,
                              const std::function<void(rd_kafka_conf_t*)>& customize) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Properties all = {
      {"bootstrap.servers", options.brokers},
      {"client.id", "cairn"},
      {"socket.timeout.ms", std::to_string(options.request_timeout_ms)},
      {"log.connection.close", "false"},
  };
  all.insert(all.end(), properties.begin(), properties.end());
  all.insert(all.end(), options.extra.begin(), options.extra.end());
  char error[512];
  for (const auto& [name, value] : all) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgument("kafka property " + name + ": " + error);
    }
  }
  rd_kafka_conf_set_log_cb(conf, &LogToSpdlog);
  if (customize) customize(conf);
  // On success rd_kafka_new owns the configuration; on failure the caller still does.
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof(error));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgument(std::string("kafka client: ") + error);
  }
  return Handle(rk);
}

PartitionList OnePartition(const std::string& topic, int partition, int64_t offset) {
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  return list;
}

int32_t Murmur2(std::string_view data) {
  constexpr uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const size_t length = data.size();
  uint32_t h = 0x9747b28c ^ static_cast<uint32_t>(length);
  const size_t whole = length / 4 * 4;
  for (size_t i = 0; i < whole; i += 4) {
    uint32_t k = uint32_t{bytes[i]} | (uint32_t{bytes[i + 1]} << 8) |
                 (uint32_t{bytes[i + 2]} << 16) | (uint32_t{bytes[i + 3]} << 24);
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  switch (length % 4) {
    case 3:
      h ^= uint32_t{bytes[whole + 2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t{bytes[whole + 1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= uint32_t{bytes[whole]};
      h *= kM;
      break;
    default:
      break;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int PartitionForKey(std::string_view key, int partitions) {
  if (key.empty() || partitions <= 1) return 0;
  return static_cast<int>((static_cast<uint32_t>(Murmur2(key)) & 0x7fffffffU) %
                          static_cast<uint32_t>(partitions));
}

Status ErrorStatus(rd_kafka_resp_err_t err, std::string_view what) {
  std::string message = std::string(what) + ": " + rd_kafka_err2str(err);
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return InvalidArgument(message);
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR__PARTITION_EOF:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
      return Unavailable(message);
    default:
      return Internal(message);
  }
}

bool IsFencedError(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
         err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
         err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
         err == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID || err == RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST ||
         err == RD_KAFKA_RESP_ERR__STATE;
}

}  // namespace cairn::stream::kafka
