# cfgd_embed_bytes(FILE OUT_VAR): the bytes of FILE as C++ character
# literals `'\xNN',`, sixteen to a line, for an array initializer (no content
# of a file can end the array early, as a string literal's could). Used at
# configure time (the embedded default config and schema) and by
# embed_console.cmake at build time.
function(cfgd_embed_bytes file out_var)
  file(READ "${file}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  set(bytes "")
  set(offset 0)
  while(offset LESS hex_length)
    string(SUBSTRING "${hex}" ${offset} 32 line)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," line "${line}")
    string(APPEND bytes "${line}\n  ")
    math(EXPR offset "${offset} + 32")
  endwhile()
  set(${out_var} "${bytes}" PARENT_SCOPE)
endfunction()
