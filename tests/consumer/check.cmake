# Installs the build into a scratch prefix, then configures, builds and runs the consumer.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build
                        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed")
endif()
execute_process(COMMAND ${WORK_DIR}/build/c_consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the C consumer failed")
endif()
# The distributed layer, when it was built: two processes.
if(MPIEXEC AND EXISTS ${WORK_DIR}/build/mpi_consumer)
  execute_process(COMMAND ${MPIEXEC} -np 2 --oversubscribe --allow-run-as-root ${WORK_DIR}/build/mpi_consumer
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "the distributed consumer failed")
  endif()
endif()
# The Python package, when it was built: importable from the install alone.
if(PYTHON AND EXISTS ${WORK_DIR}/prefix/${PYTHON_DIR}/mixprec)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${WORK_DIR}/prefix/${PYTHON_DIR} ${PYTHON} -c
            "import mixprec, numpy as np; assert mixprec.__file__.startswith('${WORK_DIR}/prefix'), mixprec.__file__; x, r = mixprec.solve(mixprec.CsrMatrix.poisson_2d(8), np.ones(64)); assert r.converged; print('Python from the install:', r.summary())"
    RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "importing the installed Python package failed")
  endif()
endif()
