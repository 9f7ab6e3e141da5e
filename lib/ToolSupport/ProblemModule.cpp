//===- ProblemModule.cpp - IR for a matmul problem ------------------------===//

#include "qmlir/ToolSupport/ProblemModule.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

namespace core = qmlir::core;

std::string qmlir::buildMatmulModule(const core::MatmulProblem &problem,
                                     const std::string &name,
                                     bool withQuantize) {
  const core::Scheme &scheme = problem.scheme;
  int64_t n = problem.n, k = problem.k;
  std::string act = core::toString(problem.activationType);
  std::vector<core::Part> parts = scheme.parts(n, k);
  std::string qtensor =
      llvm::formatv("!qmlir.qtensor<{0}x{1}, {2}>", n, k, scheme.str());
  // "%codes: tensor<..>, %scales: tensor<..>" and "tensor<..>, tensor<..>".
  std::string arguments, operands, types;
  for (const core::Part &part : parts) {
    std::string type = llvm::formatv("tensor<{0}x{1}x{2}>", part.rows,
                                     part.cols, part.element);
    arguments += llvm::formatv(", %{0}: {1}", part.name, type).str();
    operands += (operands.empty() ? "%" : ", %") + part.name;
    types += (types.empty() ? "" : ", ") + type;
  }

  std::string text;
  llvm::raw_string_ostream os(text);
  os << "!weights = " << qtensor << "\n";
  os << llvm::formatv("func.func @{0}(%x: tensor<?x{1}x{2}>{3}) -> "
                      "tensor<?x{4}x{2}> attributes {{llvm.emit_c_interface} "
                      "{{\n",
                      name, k, act, arguments, n);
  os << "  %w = qmlir.pack " << operands << " : (" << types
     << ") -> !weights\n";
  os << llvm::formatv("  %y = qmlir.matmul %x, %w : tensor<?x{0}x{1}>, "
                      "!weights -> tensor<?x{2}x{1}>\n",
                      k, act, n);
  os << llvm::formatv("  return %y : tensor<?x{0}x{1}>\n}\n", n, act);
  if (!withQuantize)
    return text;

  os << llvm::formatv("func.func @{0}_quantize(%f: tensor<{1}x{2}xf32>) -> "
                      "({3}) attributes {{llvm.emit_c_interface} {{\n",
                      name, n, k, types);
  os << llvm::formatv("  %w = qmlir.quantize %f : tensor<{0}x{1}xf32> -> "
                      "!weights\n",
                      n, k);
  os << "  %parts:" << parts.size() << " = qmlir.unpack %w : !weights\n";
  os << "  return ";
  for (size_t i = 0; i < parts.size(); ++i)
    os << (i ? ", " : "") << "%parts#" << i;
  os << " : " << types << "\n}\n";
  return text;
}
