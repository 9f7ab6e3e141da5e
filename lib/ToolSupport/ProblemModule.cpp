//===- ProblemModule.cpp - IR for a matmul problem ------------------------===//

#include "qmlir/ToolSupport/ProblemModule.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

namespace core = qmlir::core;

namespace {
/// The parts of an [n, k] matrix of `scheme` as function arguments named
/// `<prefix><part>` ("%codes: tensor<..>, ..."), operands ("%codes, ...")
/// and types ("tensor<..>, ...").
struct PartList {
  std::string arguments, operands, types;
};

PartList partList(const core::Scheme &scheme, int64_t n, int64_t k,
                  const std::string &prefix) {
  PartList list;
  for (const core::Part &part : scheme.parts(n, k)) {
    std::string type = llvm::formatv("tensor<{0}x{1}x{2}>", part.rows,
                                     part.cols, part.element);
    list.arguments +=
        llvm::formatv(", %{0}{1}: {2}", prefix, part.name, type).str();
    list.operands += (list.operands.empty() ? "%" : ", %") + prefix + part.name;
    list.types += (list.types.empty() ? "" : ", ") + type;
  }
  return list;
}
} // namespace

std::string qmlir::buildMatmulModule(const core::MatmulProblem &problem,
                                     const std::string &name,
                                     bool withQuantize) {
  const core::Scheme &scheme = problem.scheme;
  int64_t n = problem.n, k = problem.k;
  std::string act = core::toString(problem.activationType);
  const bool swiglu = problem.op == core::OpKind::Swiglu;
  std::string qtensor =
      llvm::formatv("!qmlir.qtensor<{0}x{1}, {2}>", n, k, scheme.str());
  PartList weights = partList(scheme, n, k, swiglu ? "gate_" : "");
  PartList up;
  if (swiglu)
    up = partList(problem.upSchemeOrGate(), n, k, "up_");
  std::string output = llvm::formatv("tensor<?x{0}x{1}>", n, act);
  std::string bias = llvm::formatv("tensor<{0}x{1}>", n, act);

  // Arguments: x, the weights' parts (gate, up), bias, residual.
  std::string arguments =
      llvm::formatv("%x: tensor<?x{0}x{1}>", k, act).str() + weights.arguments +
      up.arguments;
  if (problem.bias)
    arguments += ", %bias: " + bias;
  if (problem.residual)
    arguments += ", %residual: " + output;

  std::string text;
  llvm::raw_string_ostream os(text);
  os << "!weights = " << qtensor << "\n";
  if (swiglu)
    os << llvm::formatv("!up = !qmlir.qtensor<{0}x{1}, {2}>\n", n, k,
                        problem.upSchemeOrGate().str());
  os << llvm::formatv("func.func @{0}({1}) -> {2} attributes "
                      "{{llvm.emit_c_interface} {{\n",
                      name, arguments, output);
  os << "  %w = qmlir.pack " << weights.operands << " : (" << weights.types
     << ") -> !weights\n";
  if (swiglu) {
    os << "  %u = qmlir.pack " << up.operands << " : (" << up.types
       << ") -> !up\n";
    os << llvm::formatv("  %y = qmlir.swiglu %x, %w, %u{0} : "
                        "tensor<?x{1}x{2}>, !weights, !up{3} -> {4}\n",
                        problem.residual ? " residual(%residual)" : "", k, act,
                        problem.residual ? ", " + output : "", output);
  } else {
    os << llvm::formatv("  %y = qmlir.matmul %x, %w{0}{1} : tensor<?x{2}x{3}>, "
                        "!weights{4}{5} -> {6}\n",
                        problem.bias ? " bias(%bias)" : "",
                        problem.residual ? " residual(%residual)" : "", k, act,
                        problem.bias ? ", " + bias : "",
                        problem.residual ? ", " + output : "", output);
  }
  os << "  return %y : " << output << "\n}\n";
  if (!withQuantize)
    return text;

  // Quantize checks the first (gate) weights' scheme.
  std::vector<core::Part> parts = scheme.parts(n, k);
  os << llvm::formatv("func.func @{0}_quantize(%f: tensor<{1}x{2}xf32>) -> "
                      "({3}) attributes {{llvm.emit_c_interface} {{\n",
                      name, n, k, weights.types);
  os << llvm::formatv("  %w = qmlir.quantize %f : tensor<{0}x{1}xf32> -> "
                      "!weights\n",
                      n, k);
  os << "  %parts:" << parts.size() << " = qmlir.unpack %w : !weights\n";
  os << "  return ";
  for (size_t i = 0; i < parts.size(); ++i)
    os << (i ? ", " : "") << "%parts#" << i;
  os << " : " << weights.types << "\n}\n";
  return text;
}
