// Which addresses count as public; the expectations are Python's ipaddress is_global (3.11),
// except that multicast is never public and embedded IPv4 addresses are judged as IPv4.

#include "http/ip_address.h"

#include <gtest/gtest.h>

#include <string_view>

namespace cairn::http {
namespace {

TEST(IpAddressTest, PublicAddresses) {
  for (const char* ip : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700::1111",
                         "2a00:1450:4001:82a::200e", "::ffff:8.8.8.8", "2002:808:808::1"}) {
    EXPECT_TRUE(IsPublicIpAddress(ip)) << ip;
  }
}

TEST(IpAddressTest, InternalAddressesAreNotPublic) {
  for (const char* ip : {
           "127.0.0.1",
           "127.1.2.3",
           "10.0.0.1",
           "172.16.5.4",
           "172.31.255.255",
           "192.168.1.1",
           "169.254.169.254",  // cloud metadata
           "100.64.0.1",
           "0.0.0.0",
           "255.255.255.255",
           "224.0.0.1",
           "192.0.2.1",
           "198.18.0.1",
           "240.0.0.1",
           "::1",
           "::",
           "fe80::1",
           "fd00::1",
           "fc00::1",
           "ff02::1",
           "2001:db8::1",
           "::ffff:127.0.0.1",  // mapped loopback
           "::ffff:10.1.2.3",
           "64:ff9b::a00:1",     // NAT64 of 10.0.0.1
           "2002:7f00:1::1",     // 6to4 of 127.0.0.1
           "2002:a9fe:a9fe::1",  // 6to4 of the metadata address
       }) {
    EXPECT_FALSE(IsPublicIpAddress(ip)) << ip;
  }
}

TEST(IpAddressTest, OnlyNumericAddressesAreJudged) {
  for (const char* text : {"", "localhost", "example.com", "[::1]", "8.8.8.8:80", "fe80::1%eth0",
                           "8.8.8", "1.2.3.4.5"}) {
    EXPECT_FALSE(IsPublicIpAddress(text)) << text;
  }
}

}  // namespace
}  // namespace cairn::http
