# Which per-ISA kernel folders this compiler can build, and with which flags. The library
# never uses -march=native: each folder gets exactly the flags of its ISA level, and the
# run-time dispatcher decides whether the CPU that runs it may use them.
include(CheckCXXCompilerFlag)

set(MIXPREC_ISA_FLAGS_avx2 -mavx2 -mfma -mf16c)
set(MIXPREC_ISA_FLAGS_avx512 ${MIXPREC_ISA_FLAGS_avx2} -mavx512f -mavx512bw -mavx512dq -mavx512vl)
set(MIXPREC_ISA_FLAGS_avx512_bf16 ${MIXPREC_ISA_FLAGS_avx512} -mavx512bf16 -mavx512vnni)

set(MIXPREC_ISA_LEVELS)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
  foreach(level avx2 avx512 avx512_bf16)
    string(REPLACE ";" " " flags "${MIXPREC_ISA_FLAGS_${level}}")
    set(CMAKE_REQUIRED_FLAGS "${flags}")
    check_cxx_compiler_flag("${flags}" MIXPREC_COMPILER_HAS_${level})
    unset(CMAKE_REQUIRED_FLAGS)
    if(MIXPREC_COMPILER_HAS_${level})
      list(APPEND MIXPREC_ISA_LEVELS ${level})
    endif()
  endforeach()
endif()

# A build may keep fewer folders (the sanitizer job in CI builds the portable kernels only,
# to fit its time): MIXPREC_CPU_KERNEL_LEVELS=all (default), a list, or "none".
set(MIXPREC_CPU_KERNEL_LEVELS all CACHE STRING "Per-ISA CPU kernel folders: all, none, or a list of avx2;avx512;avx512_bf16")
if(NOT MIXPREC_CPU_KERNEL_LEVELS STREQUAL "all")
  set(kept)
  foreach(level ${MIXPREC_ISA_LEVELS})
    if(level IN_LIST MIXPREC_CPU_KERNEL_LEVELS)
      list(APPEND kept ${level})
    endif()
  endforeach()
  set(MIXPREC_ISA_LEVELS ${kept})
endif()
