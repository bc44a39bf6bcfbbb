# nest_backends: the backend registry and every built-in backend: sim, and the VFIO backends
# (vfio-type1, vfio-nesting) in kernel/vfio/. Included by kernel/CMakeLists.txt.
add_library(nest_backends STATIC
	${CMAKE_CURRENT_LIST_DIR}/backend.c
	${CMAKE_CURRENT_LIST_DIR}/backend-sim.c
	${CMAKE_CURRENT_LIST_DIR}/backend-util.c
	${CMAKE_CURRENT_LIST_DIR}/vfio/backend-vfio.c
	${CMAKE_CURRENT_LIST_DIR}/vfio/container.c
	${CMAKE_CURRENT_LIST_DIR}/vfio/dma.c
	${CMAKE_CURRENT_LIST_DIR}/vfio/group.c
	${CMAKE_CURRENT_LIST_DIR}/vfio/nesting.c
	${CMAKE_CURRENT_LIST_DIR}/vfio/nesting-ctx.c
	${CMAKE_CURRENT_LIST_DIR}/vfio/pci.c
	${CMAKE_CURRENT_LIST_DIR}/vfio/probe.c
	${CMAKE_CURRENT_LIST_DIR}/vfio/vfio-sys.c)
target_include_directories(nest_backends PUBLIC ${CMAKE_CURRENT_LIST_DIR}
	${CMAKE_CURRENT_LIST_DIR}/vfio ${PROJECT_SOURCE_DIR}/protocol)
target_link_libraries(nest_backends PUBLIC nest_sim nest_uapi nestproto PkgConfig::JSONC)
target_sources(nest_backends PRIVATE
	${CMAKE_CURRENT_LIST_DIR}/iommufd/backend-iommufd.c
	${CMAKE_CURRENT_LIST_DIR}/iommufd/ctx.c
	${CMAKE_CURRENT_LIST_DIR}/iommufd/fault.c
	${CMAKE_CURRENT_LIST_DIR}/iommufd/formats.c
	${CMAKE_CURRENT_LIST_DIR}/iommufd/kdev.c
	${CMAKE_CURRENT_LIST_DIR}/iommufd/pasid.c
	${CMAKE_CURRENT_LIST_DIR}/iommufd/viommu.c
	${CMAKE_CURRENT_LIST_DIR}/iommufd/viommu-formats.c)
target_include_directories(nest_backends PUBLIC ${CMAKE_CURRENT_LIST_DIR}/iommufd)
