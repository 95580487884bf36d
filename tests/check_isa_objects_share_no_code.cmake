# Fails if an object file of an ISA kernel folder defines a weak (merged) symbol outside its
# folder's inline namespace: a template or inline function instantiated with types that do
# not name the folder (std::vector<float>, a helper of src/internal). Every folder and the
# core then define one such function under one name, each compiled with its own flags, and
# the linker keeps whichever copy it meets first: the AVX-512 copy for everyone, and an
# illegal instruction on a CPU without it, if the link order changes. Kernel code uses
# kern::local_vector (kernels/common/isa_namespace.hpp) and out-of-line core helpers instead.
# Usage: cmake -DNM=<nm> -DOBJECTS=<a.o;b.o;...> -P check_isa_objects_share_no_code.cmake
# (each object's folder is read from its path: .../mixprec_kernels_<level>.dir/...).
set(offenders "")
foreach(object IN LISTS OBJECTS)
  if(NOT object MATCHES "mixprec_kernels_([a-z0-9_]+)[.]dir")
    message(FATAL_ERROR "cannot tell the kernel folder of ${object}")
  endif()
  set(isa "isa_${CMAKE_MATCH_1}")
  string(LENGTH "${isa}" isa_length)
  set(mangled_namespace "${isa_length}${isa}")  # as it appears inside a mangled name
  execute_process(COMMAND ${NM} --defined-only ${object} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${object}")
  endif()
  string(REPLACE "\n" ";" lines "${symbols}")
  foreach(line IN LISTS lines)
    # Weak code or data (W, V), or a unique global (u): the kinds the linker merges by name.
    if(NOT line MATCHES "^[0-9a-f]* [WVu] (.+)$")
      continue()
    endif()
    set(name "${CMAKE_MATCH_1}")
    string(FIND "${name}" "${mangled_namespace}" at)
    # The exception-handling references (the personality routine, a std type's typeinfo)
    # are data that every object may carry: the same bytes whatever the flags. So is clang's
    # __clang_call_terminate (__cxa_begin_catch, then std::terminate: two calls).
    if(at EQUAL -1 AND NOT name MATCHES "^DW[.]ref[.]" AND NOT name STREQUAL "__clang_call_terminate")
      list(APPEND offenders "${object}: ${name}")
    endif()
  endforeach()
endforeach()
if(offenders)
  list(JOIN offenders "\n  " listed)
  message(FATAL_ERROR "ISA-folder objects define code under names other folders can define too "
                      "(c++filt decodes them; use kern::local_vector, or move the helper out of line into the core):\n  ${listed}")
endif()
list(LENGTH OBJECTS count)
message(STATUS "${count} ISA-folder objects, each defining shared names only in its own namespace")
