#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn {
namespace {

using namespace std::string_literals;

TEST(Utf8Test, AcceptsWellFormedText) {
  for (const std::string& text :
       {""s, "plain ascii"s, "unicodé/データ.csv"s, "\0"s, "\x7f"s, "\xC2\x80"s, "\xDF\xBF"s,
        "\xE0\xA0\x80"s, "\xED\x9F\xBF"s /* U+D7FF */, "\xEE\x80\x80"s /* U+E000 */,
        "\xEF\xBF\xBD"s, "\xF0\x90\x80\x80"s, "\xF4\x8F\xBF\xBF"s /* U+10FFFF */}) {
    EXPECT_TRUE(IsValidUtf8(text)) << text;
    EXPECT_EQ(ToValidUtf8(text), text);
  }
  EXPECT_EQ(Utf8SequenceLength("a\xF0\x9F\x98\x80", 1), 4u);
  EXPECT_EQ(Utf8SequenceLength("a", 1), 0u) << "past the end";
}

TEST(Utf8Test, RejectsHostileSequences) {
  for (const std::string& text : {
           "\x80"s,                      // stray continuation byte
           "a\xBF"s,                     // stray continuation byte after ASCII
           "\xC3"s,                      // truncated two-byte sequence
           "\xE3\x83"s,                  // truncated three-byte sequence
           "\xF0\x9F\x98"s,              // truncated four-byte sequence
           "\xC3\x28"s,                  // lead byte followed by ASCII
           "\xC0\xAF"s,                  // overlong '/'
           "\xC1\xBF"s,                  // overlong U+007F
           "\xE0\x80\xAF"s,              // overlong '/' in three bytes
           "\xE0\x9F\xBF"s,              // overlong U+07FF
           "\xF0\x80\x80\xAF"s,          // overlong '/' in four bytes
           "\xF0\x8F\xBF\xBF"s,          // overlong U+FFFF
           "\xED\xA0\x80"s,              // U+D800, a high surrogate
           "\xED\xBF\xBF"s,              // U+DFFF, a low surrogate
           "\xED\xA0\xBD\xED\xB8\x80"s,  // a CESU-8 surrogate pair
           "\xF4\x90\x80\x80"s,          // U+110000, past the last code point
           "\xF5\x80\x80\x80"s,          // lead byte that can only encode past U+10FFFF
           "\xF8\x88\x80\x80\x80"s,      // five-byte form
           "\xFE"s,
           "\xFF"s,  // never in UTF-8
       }) {
    EXPECT_FALSE(IsValidUtf8(text)) << testing::PrintToString(text);
    EXPECT_TRUE(IsValidUtf8(ToValidUtf8(text))) << testing::PrintToString(text);
  }
}

TEST(Utf8Test, ReplacementIsPerByteAndKeepsTheGoodParts) {
  EXPECT_EQ(ToValidUtf8("a\xFF"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ToValidUtf8("x\xE3\x83"), "x\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ToValidUtf8("\xE3\x83\xE3\x83\x87"), "\xEF\xBF\xBD\xEF\xBF\xBD\xE3\x83\x87");
}

}  // namespace
}  // namespace cairn
