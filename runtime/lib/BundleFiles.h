//===- BundleFiles.h - Reading and checking a bundle's files ----*- C++ -*-===//
//
// The file side of qmlir_bundle_open: reading manifest.json and the cubins,
// and checking each cubin against its manifest entry (size, FNV-1a checksum)
// and as an ELF file (header, and every table and section inside the file)
// before anything is handed to the driver.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_LIB_BUNDLEFILES_H
#define QMLIR_RUNTIME_LIB_BUNDLEFILES_H

#include "Manifest.h"
#include "Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qmlir::runtime {

/// FNV-1a, 64-bit, of `size` bytes.
uint64_t fnv1a64(const unsigned char *data, size_t size);
/// Continues a hash over `size` more bytes.
uint64_t fnv1a64Update(uint64_t hash, const unsigned char *data, size_t size);

/// 16 lowercase hexadecimal digits, as in the manifest.
std::string hex64(uint64_t value);

/// Reads the whole regular file at `path`. `what` describes it in messages
/// ("the manifest", "the cubin of module 'x'"). Fails with QMLIR_ERROR_IO.
Status readFile(const std::string &path, const std::string &what,
                std::vector<unsigned char> &contents);

/// Reads the cubin of `module` from `path` and checks it against the
/// manifest: QMLIR_ERROR_IO if it cannot be read, QMLIR_ERROR_BAD_CUBIN if it
/// is truncated, corrupt, not a CUDA ELF or a damaged one.
Status readCubin(const std::string &path, const ModuleSpec &module,
                 std::vector<unsigned char> &image);

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_LIB_BUNDLEFILES_H
