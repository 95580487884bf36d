# Fails if an object file of an ISA kernel folder holds a static initialiser (.init_array or
# .ctors): code built with that folder's flags would run when the library loads, on any CPU,
# before dispatch could keep it from a CPU without the instructions (SIGILL at load).
# Usage: cmake -DOBJDUMP=<objdump> -DOBJECTS=<a.o;b.o;...> -P check_no_static_init.cmake
set(with_initialisers "")
foreach(object IN LISTS OBJECTS)
  execute_process(COMMAND ${OBJDUMP} -h ${object} OUTPUT_VARIABLE sections RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${OBJDUMP} -h failed on ${object}")
  endif()
  if(sections MATCHES "[.](init_array|ctors)")
    list(APPEND with_initialisers ${object})
  endif()
endforeach()
if(with_initialisers)
  list(JOIN with_initialisers "\n  " listed)
  message(FATAL_ERROR "ISA-folder objects with static initialisers (make their tables constexpr):\n  ${listed}")
endif()
list(LENGTH OBJECTS count)
message(STATUS "${count} ISA-folder objects, none with a static initialiser")
