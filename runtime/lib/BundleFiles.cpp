//===- BundleFiles.cpp - Reading and checking a bundle's files ------------===//
//
// Checks run in the order that gives the most useful message: the size first
// (a truncated file), then the checksum (any corruption, even inside the ELF
// header), then the ELF structure (a file that was never a cubin, or a
// producer's bug).
//
//===----------------------------------------------------------------------===//

#include "BundleFiles.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

using namespace qmlir::runtime;

uint64_t qmlir::runtime::fnv1a64Update(uint64_t hash,
                                       const unsigned char *data,
                                       size_t size) {
  for (size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

uint64_t qmlir::runtime::fnv1a64(const unsigned char *data, size_t size) {
  return fnv1a64Update(0xcbf29ce484222325ull, data, size);
}

std::string qmlir::runtime::hex64(uint64_t value) {
  static const char digits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4)
    text[size_t(i)] = digits[value & 0xf];
  return text;
}

Status qmlir::runtime::readFile(const std::string &path,
                                const std::string &what,
                                std::vector<unsigned char> &contents) {
  std::error_code ec;
  std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (std::filesystem::exists(status) &&
      !std::filesystem::is_regular_file(status))
    return failure(QMLIR_ERROR_IO, "cannot read " + path + " (" + what +
                                       "): not a regular file");
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return failure(QMLIR_ERROR_IO, "cannot read " + path + " (" + what +
                                       "): " + std::strerror(errno));
  contents.clear();
  unsigned char buffer[65536];
  size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof(buffer), file)) > 0)
    contents.insert(contents.end(), buffer, buffer + count);
  bool failed = std::ferror(file) != 0;
  int error = errno;
  std::fclose(file);
  if (failed)
    return failure(QMLIR_ERROR_IO, "cannot read " + path + " (" + what +
                                       "): " + std::strerror(error));
  return Status::success();
}

namespace {

// ELF64 layout (the System V gABI): the offsets we read.
constexpr size_t kElf64HeaderBytes = 64;
constexpr size_t kElfClassOffset = 4; // e_ident[EI_CLASS]
constexpr size_t kElfDataOffset = 5;  // e_ident[EI_DATA]
constexpr size_t kElfMachineOffset = 18;
constexpr size_t kElfPhoffOffset = 32;
constexpr size_t kElfShoffOffset = 40;
constexpr size_t kElfPhentsizeOffset = 54;
constexpr size_t kElfPhnumOffset = 56;
constexpr size_t kElfShentsizeOffset = 58;
constexpr size_t kElfShnumOffset = 60;
constexpr size_t kProgramHeaderBytes = 56;
constexpr size_t kSectionHeaderBytes = 64;
constexpr unsigned char kElfClass64 = 2;
constexpr unsigned char kElfDataLittleEndian = 1;
constexpr unsigned kElfMachineCuda = 190;
constexpr uint32_t kSectionNoBits = 8; // SHT_NOBITS: no bytes in the file

uint64_t readLE(const std::vector<unsigned char> &image, size_t offset,
                size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i)
    value |= uint64_t(image[offset + i]) << (8 * i);
  return value;
}

/// Whether [offset, offset + count * entry) lies inside the image.
bool inBounds(uint64_t offset, uint64_t count, uint64_t entry, size_t size) {
  if (offset > size)
    return false;
  return entry == 0 || count <= (size - offset) / entry;
}

std::string range(uint64_t offset, uint64_t bytes) {
  return "[" + std::to_string(offset) + ", " + std::to_string(offset) + " + " +
         std::to_string(bytes) + ")";
}

/// Returns an empty string if `image` is a little-endian ELF64 file for
/// EM_CUDA whose headers and sections all lie inside it, otherwise what is
/// wrong. The driver gets no size with the image and trusts these offsets, so
/// a file that passes the checksum but not this could make it read past the
/// buffer.
std::string checkElf(const std::vector<unsigned char> &image) {
  const size_t size = image.size();
  if (size < kElf64HeaderBytes)
    return "is " + std::to_string(size) +
           " bytes, too small for an ELF64 header";
  if (std::memcmp(image.data(),
                  "\x7f"
                  "ELF",
                  4) != 0) {
    char start[16];
    std::snprintf(start, sizeof(start), "%02x %02x %02x %02x", image[0],
                  image[1], image[2], image[3]);
    return std::string("is not an ELF file (it starts with ") + start +
           ", not 7f 45 4c 46)";
  }
  if (image[kElfClassOffset] != kElfClass64)
    return "is not a 64-bit ELF file (EI_CLASS = " +
           std::to_string(image[kElfClassOffset]) + ")";
  if (image[kElfDataOffset] != kElfDataLittleEndian)
    return "is not a little-endian ELF file (EI_DATA = " +
           std::to_string(image[kElfDataOffset]) + ")";
  uint64_t machine = readLE(image, kElfMachineOffset, 2);
  if (machine != kElfMachineCuda)
    return "is an ELF file for machine " + std::to_string(machine) +
           ", not a CUDA cubin (e_machine " + std::to_string(kElfMachineCuda) +
           ", EM_CUDA)";

  uint64_t phoff = readLE(image, kElfPhoffOffset, 8);
  uint64_t phnum = readLE(image, kElfPhnumOffset, 2);
  if (phnum > 0) {
    if (readLE(image, kElfPhentsizeOffset, 2) != kProgramHeaderBytes)
      return "has program headers of " +
             std::to_string(readLE(image, kElfPhentsizeOffset, 2)) +
             " bytes, not " + std::to_string(kProgramHeaderBytes);
    if (!inBounds(phoff, phnum, kProgramHeaderBytes, size))
      return "is damaged: its program header table " +
             range(phoff, phnum * kProgramHeaderBytes) +
             " extends past the end of the file (" + std::to_string(size) +
             " bytes)";
    for (uint64_t i = 0; i < phnum; ++i) {
      size_t at = size_t(phoff + i * kProgramHeaderBytes);
      uint64_t offset = readLE(image, at + 8, 8),
               bytes = readLE(image, at + 32, 8);
      if (!inBounds(offset, bytes, 1, size))
        return "is damaged: segment " + std::to_string(i) + " " +
               range(offset, bytes) + " extends past the end of the file (" +
               std::to_string(size) + " bytes)";
    }
  }

  uint64_t shoff = readLE(image, kElfShoffOffset, 8);
  uint64_t shnum = readLE(image, kElfShnumOffset, 2);
  if (shoff == 0)
    return {};
  if (readLE(image, kElfShentsizeOffset, 2) != kSectionHeaderBytes)
    return "has section headers of " +
           std::to_string(readLE(image, kElfShentsizeOffset, 2)) +
           " bytes, not " + std::to_string(kSectionHeaderBytes);
  if (!inBounds(shoff, shnum == 0 ? 1 : shnum, kSectionHeaderBytes, size))
    return "is damaged: its section header table " +
           range(shoff, (shnum == 0 ? 1 : shnum) * kSectionHeaderBytes) +
           " extends past the end of the file (" + std::to_string(size) +
           " bytes)";
  // Many sections: the count is in section 0's sh_size (the gABI's rule).
  if (shnum == 0) {
    shnum = readLE(image, size_t(shoff) + 32, 8);
    if (!inBounds(shoff, shnum, kSectionHeaderBytes, size))
      return "is damaged: its section header table of " +
             std::to_string(shnum) +
             " entries extends past the end of the file";
  }
  for (uint64_t i = 0; i < shnum; ++i) {
    size_t at = size_t(shoff + i * kSectionHeaderBytes);
    if (readLE(image, at + 4, 4) == kSectionNoBits)
      continue;
    uint64_t offset = readLE(image, at + 24, 8),
             bytes = readLE(image, at + 32, 8);
    if (!inBounds(offset, bytes, 1, size))
      return "is damaged: section " + std::to_string(i) + " " +
             range(offset, bytes) + " extends past the end of the file (" +
             std::to_string(size) + " bytes)";
  }
  return {};
}

} // namespace

Status qmlir::runtime::readCubin(const std::string &path,
                                 const ModuleSpec &module,
                                 std::vector<unsigned char> &image) {
  const std::string what = "the cubin of module '" + module.name + "'";
  if (Status status = readFile(path, what, image); !status.ok())
    return status;
  const std::string subject = path + " (module '" + module.name + "')";
  if (image.size() != module.bytes)
    return failure(QMLIR_ERROR_BAD_CUBIN,
                   subject + " is " + std::to_string(image.size()) +
                       " bytes but the manifest says " +
                       std::to_string(module.bytes) +
                       ": the cubin is truncated or was replaced");
  uint64_t checksum = fnv1a64(image.data(), image.size());
  if (checksum != module.fnv1a64)
    return failure(QMLIR_ERROR_BAD_CUBIN,
                   subject + " has FNV-1a 64 checksum " + hex64(checksum) +
                       " but the manifest says " + hex64(module.fnv1a64) +
                       ": the cubin is corrupt");
  if (std::string error = checkElf(image); !error.empty())
    return failure(QMLIR_ERROR_BAD_CUBIN, subject + " " + error);
  return Status::success();
}
