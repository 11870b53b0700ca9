#include "http/ip_address.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace cairn::http {
namespace {

bool InV4(uint32_t ip, uint32_t net, int bits) {
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (ip & mask) == (net & mask);
}

}  // namespace

bool IsPublicIpv4(uint32_t ip) {
  struct Net {
    uint32_t net;
    int bits;
  };
  static constexpr std::array<Net, 17> kNonPublic = {{
      {0x00000000, 8},   // "this network"
      {0x0A000000, 8},   // private
      {0x64400000, 10},  // shared address space (carrier-grade NAT)
      {0x7F000000, 8},   // loopback
      {0xA9FE0000, 16},  // link local, cloud metadata services
      {0xAC100000, 12},  // private
      {0xC0000000, 24},  // IETF protocol assignments
      {0xC0000200, 24},  // documentation
      {0xC0A80000, 16},  // private
      {0xC6120000, 15},  // benchmarking
      {0xC6336400, 24},  // documentation
      {0xCB007100, 24},  // documentation
      {0xE0000000, 4},   // multicast
      {0xF0000000, 4},   // reserved
      {0xFFFFFFFF, 32},  // broadcast
      {0xC0586300, 24},  // 6to4 relay anycast
      {0xC0AF3000, 24},  // direct delegation AS112
  }};
  for (const Net& n : kNonPublic) {
    if (InV4(ip, n.net, n.bits)) return false;
  }
  return true;
}

bool IsPublicIpv6(const std::array<uint8_t, 16>& address) {
  const uint8_t* b = address.data();
  auto v4_at = [b](int i) {
    return (uint32_t{b[i]} << 24) | (uint32_t{b[i + 1]} << 16) | (uint32_t{b[i + 2]} << 8) |
           uint32_t{b[i + 3]};
  };
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0) return IsPublicIpv4(v4_at(12));
  static constexpr uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kNat64, 12) == 0) return IsPublicIpv4(v4_at(12));
  if (b[0] == 0x20 && b[1] == 0x02) return IsPublicIpv4(v4_at(2));  // 6to4
  static constexpr uint8_t kZero[15] = {};
  if (std::memcmp(b, kZero, 15) == 0) return false;         // :: and ::1
  if ((b[0] & 0xfe) == 0xfc) return false;                  // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;  // fe80::/10 link local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false;  // fec0::/10 site local
  if (b[0] == 0xff) return false;                           // multicast
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false;  // docs
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02) return false;  // 2001::/23 protocols
  if (b[0] == 0x01 && b[1] == 0 && std::memcmp(b + 2, kZero, 6) == 0) return false;  // 100::/64
  return true;
}

bool IsPublicIpAddress(std::string_view text) {
  std::string copy(text);
  in_addr v4{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) return IsPublicIpv4(ntohl(v4.s_addr));
  std::array<uint8_t, 16> v6{};
  if (inet_pton(AF_INET6, copy.c_str(), v6.data()) == 1) return IsPublicIpv6(v6);
  return false;
}

}  // namespace cairn::http
