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
  int64_t groups = scheme.groupsPerRow(k);
  std::string act = core::toString(problem.activationType);
  std::string scale = core::toString(scheme.scaleType);
  std::string codes = llvm::formatv("tensor<{0}x{1}xi32>", n,
                                    core::packedWords(k, scheme.bits));
  std::string scales = llvm::formatv("tensor<{0}x{1}x{2}>", n, groups, scale);
  std::string zeros;
  if (scheme.zero == core::ZeroKind::Int)
    zeros = llvm::formatv("tensor<{0}x{1}xi32>", n,
                          core::packedWords(groups, scheme.bits));
  else if (scheme.zero == core::ZeroKind::Float)
    zeros = scales;
  std::string qtensor =
      llvm::formatv("!qmlir.qtensor<{0}x{1}, {2}>", n, k, scheme.str());
  bool hasZeros = !zeros.empty();

  std::string text;
  llvm::raw_string_ostream os(text);
  os << "!weights = " << qtensor << "\n";
  os << llvm::formatv("func.func @{4}(%x: tensor<?x{0}x{1}>, "
                      "%codes: {2}, %scales: {3}",
                      k, act, codes, scales, name);
  if (hasZeros)
    os << ", %zeros: " << zeros;
  os << llvm::formatv(") -> tensor<?x{0}x{1}> attributes "
                      "{{llvm.emit_c_interface} {{\n",
                      n, act);
  os << "  %w = qmlir.pack %codes, %scales" << (hasZeros ? ", %zeros" : "")
     << " : (" << codes << ", " << scales << (hasZeros ? ", " + zeros : "")
     << ") -> !weights\n";
  os << llvm::formatv("  %y = qmlir.matmul %x, %w : tensor<?x{0}x{1}>, "
                      "!weights -> tensor<?x{2}x{1}>\n",
                      k, act, n);
  os << llvm::formatv("  return %y : tensor<?x{0}x{1}>\n}\n", n, act);

  if (!withQuantize)
    return text;
  std::string results = codes + ", " + scales + (hasZeros ? ", " + zeros : "");
  os << llvm::formatv("func.func @{3}_quantize(%f: tensor<{0}x{1}xf32>) -> "
                      "({2}) attributes {{llvm.emit_c_interface} {{\n",
                      n, k, results, name);
  os << llvm::formatv("  %w = qmlir.quantize %f : tensor<{0}x{1}xf32> -> "
                      "!weights\n",
                      n, k);
  os << "  %parts:" << (hasZeros ? 3 : 2) << " = qmlir.unpack %w : !weights\n";
  os << "  return %parts#0, %parts#1" << (hasZeros ? ", %parts#2" : "")
     << " : " << results << "\n}\n";
  return text;
}

