# Writes a C++ source file whose function returns a text file's contents, so the binary carries
# the text. The function is declared in HEADER, a checked-in header.
# Usage: cmake -DINPUT=<file> -DOUTPUT=<.cc> -DHEADER=<include path> -DNAMESPACE=<ns>
#              -DFUNCTION=<name> -P embed_text.cmake
file(READ "${INPUT}" TEXT)
get_filename_component(INPUT_NAME "${INPUT}" NAME)
string(FIND "${TEXT}" ")cairn_embed\"" CLASH)
if(NOT CLASH EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )cairn_embed\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT_NAME} by embed_text.cmake; do not edit.\n"
  "#include \"${HEADER}\"\n\nnamespace ${NAMESPACE} {\n\n"
  "std::string_view ${FUNCTION}() {\n"
  "  return R\"cairn_embed(${TEXT})cairn_embed\";\n}\n\n"
  "}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
