# Writes a C++ header holding a text file as a string constant, so the binary carries it.
# Usage: cmake -DINPUT=<file> -DOUTPUT=<header> -DNAMESPACE=<ns> -DSYMBOL=<name> -P embed_text.cmake
file(READ "${INPUT}" TEXT)
get_filename_component(INPUT_NAME "${INPUT}" NAME)
string(FIND "${TEXT}" ")cairn_embed\"" CLASH)
if(NOT CLASH EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )cairn_embed\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT_NAME} by embed_text.cmake; do not edit.\n"
  "#pragma once\n\n#include <string_view>\n\nnamespace ${NAMESPACE} {\n\n"
  "inline constexpr std::string_view ${SYMBOL} = R\"cairn_embed(${TEXT})cairn_embed\";\n\n"
  "}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
