#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace cairn::http {

// Whether an address is public (reachable on the internet), by the rules of Python's
// ipaddress `is_global`, with multicast never public. IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4
// (2002::/16) IPv6 addresses are judged by the IPv4 address they carry, so none of them can
// smuggle a private IPv4 address past the check. Used to keep server-side requests (webhooks)
// away from loopback, private, link-local and cloud metadata addresses.
bool IsPublicIpv4(uint32_t address);  // host byte order
bool IsPublicIpv6(const std::array<uint8_t, 16>& address);
// A numeric IPv4 or IPv6 address (no brackets, no zone); false for anything else.
bool IsPublicIpAddress(std::string_view text);

}  // namespace cairn::http
