//===- Status.h - A status code and its message -----------------*- C++ -*-===//
//
// What the runtime's internal functions return: the C API's status and, on
// failure, the message that qmlir_last_error() will hand out. Success carries
// an empty string, so returning it allocates nothing (qmlir_launch relies on
// that).
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_LIB_STATUS_H
#define QMLIR_RUNTIME_LIB_STATUS_H

#include "qmlir/Runtime/qmlir_runtime.h"

#include <string>
#include <utility>

namespace qmlir::runtime {

struct [[nodiscard]] Status {
  qmlir_status code = QMLIR_SUCCESS;
  std::string message;

  bool ok() const { return code == QMLIR_SUCCESS; }
  static Status success() { return {}; }
};

inline Status failure(qmlir_status code, std::string message) {
  return Status{code, std::move(message)};
}

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_LIB_STATUS_H
