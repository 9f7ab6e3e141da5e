//===- AtomicDirectory.cpp - Writing a directory atomically ---------------===//
//
// A checkpoint directory is written into a fresh sibling and renamed into
// place, so that readers never see a half-written checkpoint and a failure
// leaves nothing behind.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "qmlir/Checkpoint/Export.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::detail;

llvm::Error qmlir::checkpoint::writeDirectoryAtomically(
    llvm::StringRef path, const std::map<std::string, std::string> &files,
    bool force) {
  // Absolute, because createUniqueDirectory puts relative names under the
  // system's temporary directory, where a rename may cross file systems.
  llvm::SmallString<256> target(path);
  if (std::error_code error = llvm::sys::fs::make_absolute(target))
    return makeError("cannot resolve '" + path + "': " + error.message());
  const bool exists = llvm::sys::fs::exists(target);
  if (exists && !force)
    return makeError("output '" + target +
                     "' exists; pass --force to replace it");
  llvm::SmallString<256> staging;
  if (std::error_code error =
          llvm::sys::fs::createUniqueDirectory(target + ".partial", staging))
    return makeError("cannot create a directory next to '" + target +
                     "': " + error.message());
  llvm::sys::fs::setPermissions(staging, llvm::sys::fs::perms(0755));
  auto discard = [&](llvm::Error error) {
    llvm::sys::fs::remove_directories(staging);
    return error;
  };
  for (const auto &[name, contents] : files) {
    std::string file = (staging + "/" + name).str();
    std::error_code error;
    llvm::raw_fd_ostream os(file, error);
    if (error)
      return discard(makeError("cannot write " + file + ": " +
                               error.message()));
    os << contents;
    os.close();
    if (os.has_error())
      return discard(makeError("cannot write " + file + ": " +
                               os.error().message()));
  }
  llvm::SmallString<256> previous;
  if (exists) {
    previous = (target + ".previous").str();
    llvm::sys::fs::remove_directories(previous);
    if (std::error_code error = llvm::sys::fs::rename(target, previous))
      return discard(makeError("cannot move the existing '" + target +
                               "' aside: " + error.message()));
  }
  if (std::error_code error = llvm::sys::fs::rename(staging, target))
    return discard(makeError("cannot rename " + staging + " to " + target +
                             ": " + error.message()));
  if (exists)
    llvm::sys::fs::remove_directories(previous);
  return llvm::Error::success();
}
