# Writes OUTPUT, a C++ file defining `const char SYMBOL[]` with the text of INPUT (for a page
# compiled into the program). cmake -DINPUT=... -DOUTPUT=... -DSYMBOL=ns::name -P embed_text.cmake
file(READ "${INPUT}" text)
string(FIND "${text}" ")attnmt_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string end )attnmt_embed\": rename it")
endif()
string(REGEX MATCH "^(.*)::([^:]+)$" _ "${SYMBOL}")
set(ns "${CMAKE_MATCH_1}")
set(name "${CMAKE_MATCH_2}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/embed_text.cmake: edit that file, not this one.\n"
  "namespace ${ns} {\n"
  "extern const char ${name}[];\n"
  "const char ${name}[] = R\"attnmt_embed(${text})attnmt_embed\";\n"
  "}  // namespace ${ns}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
