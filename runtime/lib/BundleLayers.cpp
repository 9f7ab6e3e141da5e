//===- BundleLayers.cpp - Layers: weights and runs ------------------------===//
//
// A layer's weights live in device memory that the bundle uploads (one
// allocation for all of weights.bin) or that the caller binds. Running a layer
// picks the kernel by M and passes x, the weights, the residual and out in
// the kernel's argument order (the manifest guarantees they agree).
//
//===----------------------------------------------------------------------===//

#include "Bundle.h"

#include "BundleFiles.h"

#include "qmlir/Core/Layout.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace qmlir::runtime;
namespace fs = std::filesystem;

namespace {

/// weights.bin is copied to the GPU in pieces of this size.
constexpr size_t kUploadChunkBytes = size_t(64) << 20;

} // namespace

std::string Bundle::weightsPath() const {
  return (fs::path(dir) / manifest.weightsFile->file).string();
}

Status Bundle::checkWeightsFile() const {
  if (!manifest.weightsFile)
    return Status::success();
  // The checksum is verified while uploading: a model's weights are large.
  std::error_code ec;
  const std::string path = weightsPath();
  uint64_t size = fs::file_size(path, ec);
  if (ec)
    return failure(QMLIR_ERROR_IO,
                   "cannot read the weights file '" + path + "': " + ec.message());
  if (size != manifest.weightsFile->bytes)
    return failure(QMLIR_ERROR_BAD_MANIFEST,
                   path + " has " + std::to_string(size) +
                       " bytes but the manifest says " +
                       std::to_string(manifest.weightsFile->bytes) +
                       " (truncated or replaced)");
  return Status::success();
}

const char *Bundle::layerName(size_t index) const {
  return index < layers.size() ? layers[index].spec->name.c_str() : nullptr;
}

const Bundle::Layer *Bundle::findLayer(const char *name) const {
  if (!name)
    return nullptr;
  auto it = layerIndex.find(name);
  return it == layerIndex.end() ? nullptr : &layers[it->second];
}

Status Bundle::layerNotFound(const char *caller, const char *name) const {
  std::string names;
  for (size_t i = 0; i < layers.size() && i < 8; ++i)
    names += (names.empty() ? "'" : ", '") + layers[i].spec->name + "'";
  if (layers.size() > 8)
    names += ", ... (" + std::to_string(layers.size()) + " layers)";
  return failure(QMLIR_ERROR_NOT_FOUND,
                 std::string(caller) + ": no layer '" +
                     (name ? name : "(null)") + "' in bundle '" + dir +
                     "' (it has " +
                     (names.empty() ? std::string("no layers") : names) + ")");
}

Status Bundle::layerInfo(const char *name, qmlir_layer_info &info) const {
  const Layer *layer = findLayer(name);
  if (!layer)
    return layerNotFound("qmlir_bundle_layer_info", name);
  const LayerSpec &spec = *layer->spec;
  info.name = spec.name.c_str();
  info.op = spec.op.c_str();
  info.n = spec.n;
  info.k = spec.k;
  info.activation = core::toString(spec.activation);
  info.has_bias = spec.hasBias;
  info.has_residual = spec.hasResidual;
  info.num_weights = spec.weights.size();
  info.m_max = spec.mMax();
  info.layout = core::toString(spec.layout);
  return Status::success();
}

Status Bundle::weightInfo(const char *name, size_t index,
                          qmlir_weight_info &info) const {
  const Layer *layer = findLayer(name);
  if (!layer)
    return layerNotFound("qmlir_bundle_weight_info", name);
  const LayerSpec &spec = *layer->spec;
  if (index >= spec.weights.size())
    return failure(QMLIR_ERROR_INVALID_ARGUMENT,
                   "qmlir_bundle_weight_info: layer '" + spec.name + "' has " +
                       std::to_string(spec.weights.size()) +
                       " weights, index " + std::to_string(index) +
                       " is out of range");
  const WeightSpec &weight = spec.weights[index];
  info.name = weight.name.c_str();
  info.element = weight.element.c_str();
  info.rows = weight.rows;
  info.cols = weight.cols;
  info.bytes = size_t(weight.bytes);
  info.in_bundle = weight.inBundle;
  return Status::success();
}

Status Bundle::uploadWeights() {
  const char *caller = "qmlir_bundle_upload_weights";
  if (Status s = checkContext(caller); !s.ok())
    return s;
  if (weightsMemory || !manifest.weightsFile)
    return Status::success(); // done already, or nothing to upload
  const WeightsFileSpec &file = *manifest.weightsFile;
  const std::string path = weightsPath();
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return failure(QMLIR_ERROR_IO, std::string(caller) + ": cannot open '" +
                                       path + "'");
  cuda::CUdeviceptr memory = 0;
  if (file.bytes > 0) {
    if (cuda::CUresult r = driver->cuMemAlloc(&memory, size_t(file.bytes));
        r != cuda::CUDA_SUCCESS)
      return failure(QMLIR_ERROR_CUDA,
                     std::string(caller) + ": " + std::to_string(file.bytes) +
                         " bytes for " + path + ": " +
                         driver->describe("cuMemAlloc", r));
  }
  auto discard = [&](Status status) {
    if (memory)
      driver->cuMemFree(memory);
    return status;
  };
  // Copied and hashed in pieces; the data is bound only if it is intact.
  std::vector<unsigned char> chunk(
      size_t(std::min<uint64_t>(file.bytes, kUploadChunkBytes)));
  uint64_t hash = fnv1a64(nullptr, 0);
  for (uint64_t done = 0; done < file.bytes;) {
    size_t size = size_t(std::min<uint64_t>(file.bytes - done, chunk.size()));
    if (!in.read(reinterpret_cast<char *>(chunk.data()), std::streamsize(size)))
      return discard(failure(QMLIR_ERROR_IO,
                             std::string(caller) + ": " + path +
                                 " ends after " + std::to_string(done) +
                                 " of " + std::to_string(file.bytes) +
                                 " bytes"));
    hash = fnv1a64Update(hash, chunk.data(), size);
    if (cuda::CUresult r =
            driver->cuMemcpyHtoD(memory + done, chunk.data(), size);
        r != cuda::CUDA_SUCCESS)
      return discard(failure(QMLIR_ERROR_CUDA,
                             std::string(caller) + ": " +
                                 driver->describe("cuMemcpyHtoD", r)));
    done += size;
  }
  if (hash != file.fnv1a64)
    return discard(failure(QMLIR_ERROR_BAD_MANIFEST,
                           std::string(caller) + ": " + path +
                               " is corrupt: its FNV-1a checksum is " +
                               hex64(hash) + ", the manifest says " +
                               hex64(file.fnv1a64)));
  weightsMemory = memory;
  for (Layer &layer : layers)
    for (size_t i = 0; i < layer.weights.size(); ++i)
      if (layer.spec->weights[i].inBundle)
        layer.weights[i] = reinterpret_cast<const void *>(
            uintptr_t(memory + layer.spec->weights[i].offset));
  return Status::success();
}

Status Bundle::bindWeight(const char *layerName, const char *weight,
                          const void *pointer) {
  const char *caller = "qmlir_bundle_bind_weight";
  const Layer *found = findLayer(layerName);
  if (!found)
    return layerNotFound(caller, layerName);
  Layer &layer = layers[size_t(found - layers.data())];
  const LayerSpec &spec = *layer.spec;
  std::string names;
  for (size_t i = 0; i < spec.weights.size(); ++i) {
    if (weight && spec.weights[i].name == weight) {
      if (!pointer || reinterpret_cast<uintptr_t>(pointer) % 16 != 0)
        return failure(QMLIR_ERROR_INVALID_ARGUMENT,
                       std::string(caller) + ": layer '" + spec.name +
                           "', weight '" + weight + "': the pointer is " +
                           (pointer ? "not 16-byte aligned" : "null"));
      layer.weights[i] = pointer;
      return Status::success();
    }
    names += (names.empty() ? "'" : ", '") + spec.weights[i].name + "'";
  }
  return failure(QMLIR_ERROR_NOT_FOUND,
                 std::string(caller) + ": layer '" + spec.name +
                     "' has no weight '" + (weight ? weight : "(null)") +
                     "' (it has " + names + ")");
}

Status Bundle::arrangeWeight(const char *layerName, const char *weight,
                             qmlir_arrangement direction, const void *in,
                             void *out, size_t bytes) const {
  const char *caller = "qmlir_bundle_arrange_weight";
  const Layer *layer = findLayer(layerName);
  if (!layer)
    return layerNotFound(caller, layerName);
  const LayerSpec &spec = *layer->spec;
  auto found = std::find_if(spec.weights.begin(), spec.weights.end(),
                            [&](const WeightSpec &w) { return w.name == weight; });
  if (found == spec.weights.end())
    return failure(QMLIR_ERROR_NOT_FOUND, std::string(caller) + ": layer '" +
                                              spec.name + "' has no weight '" +
                                              weight + "'");
  if (direction != QMLIR_CANONICAL_TO_STORED &&
      direction != QMLIR_STORED_TO_CANONICAL)
    return failure(QMLIR_ERROR_INVALID_ARGUMENT,
                   std::string(caller) + ": unknown direction " +
                       std::to_string(int(direction)));
  if (bytes != found->bytes)
    return failure(QMLIR_ERROR_INVALID_ARGUMENT,
                   std::string(caller) + ": layer '" + spec.name +
                       "', weight '" + weight + "' has " +
                       std::to_string(found->bytes) + " bytes, not " +
                       std::to_string(bytes));
  // Swiglu names its parts "gate.codes" and "up.codes".
  const std::string name = weight;
  const bool isCodes = name == "codes" || name == "gate.codes" || name == "up.codes";
  if (!isCodes || spec.layout == core::Layout::Canonical) {
    std::memcpy(out, in, bytes);
    return Status::success();
  }
  const core::Scheme &scheme =
      name == "up.codes" ? spec.upScheme : spec.scheme;
  std::vector<uint32_t> words(bytes / sizeof(uint32_t));
  std::memcpy(words.data(), in, bytes);
  words = direction == QMLIR_CANONICAL_TO_STORED
              ? core::arrangeCodes(spec.layout, scheme, spec.n, spec.k, words)
              : core::canonicalCodes(spec.layout, scheme, spec.n, spec.k, words);
  std::memcpy(out, words.data(), bytes);
  return Status::success();
}

Status Bundle::workspaceSize(const char *name, int64_t m,
                             size_t &bytes) const {
  const Layer *layer = findLayer(name);
  if (!layer)
    return layerNotFound("qmlir_layer_workspace_size", name);
  if (m < 1 || m > layer->spec->mMax())
    return failure(QMLIR_ERROR_INVALID_ARGUMENT,
                   "qmlir_layer_workspace_size: layer '" + layer->spec->name +
                       "': M must be in [1, " +
                       std::to_string(layer->spec->mMax()) + "], got " +
                       std::to_string(m));
  bytes = 0; // kernel ABI v1 kernels use no workspace
  return Status::success();
}

Status Bundle::runLayer(const char *name, int64_t m, const void *x,
                        const void *residual, void *out, void *workspace,
                        size_t workspaceBytes, void *stream) const {
  const char *caller = "qmlir_run_layer";
  const Layer *layer = findLayer(name);
  if (!layer)
    return layerNotFound(caller, name);
  const LayerSpec &spec = *layer->spec;
  auto invalid = [&](const std::string &what) {
    return failure(QMLIR_ERROR_INVALID_ARGUMENT,
                   std::string(caller) + ": layer '" + spec.name + "': " + what);
  };
  if (m < 1 || m > spec.mMax())
    return invalid("M must be in [1, " + std::to_string(spec.mMax()) +
                   "], got " + std::to_string(m));
  if (spec.hasResidual != (residual != nullptr))
    return invalid(spec.hasResidual
                       ? "the layer adds a residual; pass it (got null)"
                       : "the layer has no residual input; pass null");
  (void)workspace; // kernel ABI v1 kernels use no workspace
  (void)workspaceBytes;
  for (size_t i = 0; i < layer->weights.size(); ++i)
    if (!layer->weights[i])
      return failure(QMLIR_ERROR_NOT_BOUND,
                     std::string(caller) + ": layer '" + spec.name +
                         "': weight '" + spec.weights[i].name +
                         "' is neither uploaded nor bound (call "
                         "qmlir_bundle_upload_weights or "
                         "qmlir_bundle_bind_weight)");

  const DispatchEntry *entry = &spec.dispatch.front();
  for (const DispatchEntry &candidate : spec.dispatch)
    if (m >= candidate.mMin && m <= candidate.mMax)
      entry = &candidate;
  const Kernel &kernel = kernels[entry->kernel];

  // x, the weights, the residual, out: the order of kernelArguments.
  void *args[kMaxKernelArguments];
  size_t count = 0;
  args[count++] = const_cast<void *>(x);
  for (const void *weight : layer->weights)
    args[count++] = const_cast<void *>(weight);
  if (spec.hasResidual)
    args[count++] = const_cast<void *>(residual);
  args[count++] = out;
  if (Status s = checkLaunch(caller, kernel, m, args, count); !s.ok())
    return s;
  return enqueue(caller, kernel, m, args, stream);
}
