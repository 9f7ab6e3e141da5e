//===- ModelSpec.cpp - Parsing model specs --------------------------------===//
//
// The spec is strict: unknown keys, wrong types and bad values are errors
// naming their path ("layers[3].n"), so that a typo never silently drops a
// setting.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "qmlir/Checkpoint/ModelSpec.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include <map>

using namespace qmlir;
using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::detail;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

const char *qmlir::checkpoint::toString(LayerOp op) {
  return op == LayerOp::Swiglu ? "swiglu" : "matmul";
}

namespace {

class SpecParser {
public:
  explicit SpecParser(StringRef origin) : origin(origin) {}

  Error fail(const llvm::Twine &path, const llvm::Twine &message) {
    return makeError(origin + ": " + path + ": " + message);
  }

  Error checkKeys(const llvm::json::Object &object, const std::string &path,
                  llvm::ArrayRef<StringRef> allowed) {
    std::vector<std::string> unknown;
    for (const auto &[key, value] : object)
      if (!llvm::is_contained(allowed, StringRef(key)))
        unknown.push_back(key.str());
    if (unknown.empty())
      return Error::success();
    std::sort(unknown.begin(), unknown.end());
    return fail(path.empty() ? unknown[0] : path + "." + unknown[0],
                "unknown key (expected one of " +
                    llvm::join(allowed.begin(), allowed.end(), ", ") + ")");
  }

  Expected<std::string> string(const llvm::json::Value &value,
                               const std::string &path) {
    if (auto text = value.getAsString())
      return text->str();
    return fail(path, "expected a string");
  }

  Expected<int64_t> positive(const llvm::json::Value &value,
                             const std::string &path) {
    auto integer = value.getAsInteger();
    if (!integer || *integer <= 0)
      return fail(path, "expected a positive integer");
    return *integer;
  }

  Expected<bool> boolean(const llvm::json::Value &value,
                         const std::string &path) {
    if (auto flag = value.getAsBoolean())
      return *flag;
    return fail(path, "expected true or false");
  }

  Expected<core::FloatType> activation(const llvm::json::Value &value,
                                       const std::string &path) {
    Expected<std::string> text = string(value, path);
    if (!text)
      return text.takeError();
    if (auto type = core::parseFloatType(*text))
      return *type;
    return fail(path, "expected f16, bf16 or f32, got '" + *text + "'");
  }

  Expected<core::Scheme> scheme(StringRef text, const std::string &path) {
    std::string error;
    if (auto parsed = core::Scheme::parse(text, &error))
      return *parsed;
    return fail(path, "invalid scheme '" + text + "': " + error);
  }

  Expected<ModelSpec> parse(StringRef json);

private:
  Error parseLayer(const llvm::json::Value &value, size_t index,
                   ModelSpec &spec);

  std::string origin;
  std::map<std::string, core::Scheme> schemes;
};

Expected<ModelSpec> SpecParser::parse(StringRef json) {
  Expected<llvm::json::Value> root = llvm::json::parse(json);
  if (!root)
    return fail("(root)", "not valid JSON: " + llvm::toString(root.takeError()));
  const llvm::json::Object *object = root->getAsObject();
  if (!object)
    return fail("(root)", "expected an object");
  if (Error error = checkKeys(*object, "",
                              {"format", "version", "name", "activation",
                               "schemes", "layers"}))
    return std::move(error);
  const llvm::json::Value *format = object->get("format");
  if (!format || format->getAsString() != "qmlir-model-spec")
    return fail("format", "expected \"qmlir-model-spec\"");
  const llvm::json::Value *version = object->get("version");
  if (!version || version->getAsInteger() != 1)
    return fail("version", "expected 1");
  ModelSpec spec;
  if (const llvm::json::Value *name = object->get("name")) {
    Expected<std::string> text = string(*name, "name");
    if (!text)
      return text.takeError();
    spec.name = *text;
  }
  if (const llvm::json::Value *value = object->get("activation")) {
    Expected<core::FloatType> type = activation(*value, "activation");
    if (!type)
      return type.takeError();
    spec.activation = *type;
  }
  if (const llvm::json::Value *value = object->get("schemes")) {
    const llvm::json::Object *map = value->getAsObject();
    if (!map)
      return fail("schemes", "expected an object of scheme texts");
    for (const auto &[key, text] : *map) {
      std::string path = "schemes." + key.str();
      Expected<std::string> body = string(text, path);
      if (!body)
        return body.takeError();
      Expected<core::Scheme> parsed = scheme(*body, path);
      if (!parsed)
        return parsed.takeError();
      schemes[key.str()] = *parsed;
    }
  }
  const llvm::json::Value *layers = object->get("layers");
  if (!layers || !layers->getAsArray())
    return fail("layers", "expected an array of layers");
  for (size_t i = 0; i < layers->getAsArray()->size(); ++i)
    if (Error error = parseLayer((*layers->getAsArray())[i], i, spec))
      return std::move(error);
  std::map<std::string, std::string> seen;
  for (const SpecLayer &layer : spec.layers) {
    // `where` starts with the origin; the "also" part names the path only.
    std::string path = layer.where.substr(origin.size() + 2);
    auto [it, inserted] = seen.try_emplace(layer.name, path);
    if (!inserted)
      return fail(path + ".name", "duplicate layer name '" + layer.name +
                                      "' (also " + it->second + ")");
  }
  return spec;
}

Error SpecParser::parseLayer(const llvm::json::Value &value, size_t index,
                             ModelSpec &spec) {
  const std::string path = "layers[" + std::to_string(index) + "]";
  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return fail(path, "expected an object");
  if (Error error = checkKeys(*object, path,
                              {"name", "op", "repeat", "n", "k", "scheme",
                               "activation", "source", "gate", "up", "bias",
                               "residual"}))
    return error;
  SpecLayer layer;
  auto field = [&](StringRef key) { return path + "." + key.str(); };
  const llvm::json::Value *name = object->get("name");
  if (!name)
    return fail(field("name"), "missing");
  Expected<std::string> nameText = string(*name, field("name"));
  if (!nameText)
    return nameText.takeError();
  if (nameText->empty())
    return fail(field("name"), "must not be empty");
  int64_t repeat = 0;
  if (const llvm::json::Value *v = object->get("repeat")) {
    Expected<int64_t> count = positive(*v, field("repeat"));
    if (!count)
      return count.takeError();
    repeat = *count;
  }
  const bool templated = StringRef(*nameText).contains("{i}");
  if (repeat && !templated)
    return fail(field("name"), "a repeated layer's name needs \"{i}\"");
  if (!repeat && templated)
    return fail(field("name"), "\"{i}\" needs \"repeat\"");
  if (const llvm::json::Value *v = object->get("op")) {
    Expected<std::string> op = string(*v, field("op"));
    if (!op)
      return op.takeError();
    if (*op == "swiglu")
      layer.op = LayerOp::Swiglu;
    else if (*op != "matmul")
      return fail(field("op"), "expected matmul or swiglu, got '" + *op + "'");
  }
  for (StringRef key : {"n", "k"})
    if (const llvm::json::Value *v = object->get(key)) {
      Expected<int64_t> size = positive(*v, field(key));
      if (!size)
        return size.takeError();
      (key == "n" ? layer.n : layer.k) = *size;
    }
  if (const llvm::json::Value *v = object->get("scheme")) {
    Expected<std::string> text = string(*v, field("scheme"));
    if (!text)
      return text.takeError();
    if (auto it = schemes.find(*text); it != schemes.end()) {
      layer.scheme = it->second;
    } else if (StringRef(*text).starts_with("#qmlir.scheme<")) {
      Expected<core::Scheme> parsed = scheme(*text, field("scheme"));
      if (!parsed)
        return parsed.takeError();
      layer.scheme = *parsed;
    } else {
      return fail(field("scheme"), "'" + *text +
                                       "' is neither a key of \"schemes\" "
                                       "nor a #qmlir.scheme<...>");
    }
    if (layer.n && layer.k)
      if (std::string error = layer.scheme->validateShape(*layer.n, *layer.k);
          !error.empty())
        return fail(field("scheme"), error);
  }
  if (const llvm::json::Value *v = object->get("activation")) {
    Expected<core::FloatType> type = activation(*v, field("activation"));
    if (!type)
      return type.takeError();
    layer.activation = *type;
  }
  std::string source, gate, up;
  for (auto [key, target] : {std::pair<StringRef, std::string *>{"source", &source},
                             {"gate", &gate}, {"up", &up}})
    if (const llvm::json::Value *v = object->get(key)) {
      if ((key == "source") == (layer.op == LayerOp::Swiglu))
        return fail(field(key), key == "source"
                                    ? "only a matmul layer has a source"
                                    : "only a swiglu layer has gate and up");
      Expected<std::string> text = string(*v, field(key));
      if (!text)
        return text.takeError();
      if (text->empty())
        return fail(field(key), "must not be empty");
      *target = *text;
    }
  for (StringRef key : {"bias", "residual"})
    if (const llvm::json::Value *v = object->get(key)) {
      Expected<bool> flag = boolean(*v, field(key));
      if (!flag)
        return flag.takeError();
      if (key == "bias")
        layer.bias = *flag;
      else
        layer.residual = *flag;
    }
  if (layer.op == LayerOp::Swiglu && layer.bias.value_or(false))
    return fail(field("bias"), "a swiglu layer has no bias");

  auto expand = [](std::string text, int64_t i) {
    size_t at;
    while ((at = text.find("{i}")) != std::string::npos)
      text.replace(at, 3, std::to_string(i));
    return text;
  };
  for (int64_t i = 0; i < std::max<int64_t>(repeat, 1); ++i) {
    SpecLayer copy = layer;
    copy.name = expand(*nameText, i);
    // Errors of buildModel start with `where`: the spec and the layer.
    copy.where = origin + ": " +
                 (repeat ? path + " (i = " + std::to_string(i) + ")" : path);
    copy.source = source.empty() ? copy.name : expand(source, i);
    copy.gate = gate.empty() ? copy.name + ".gate" : expand(gate, i);
    copy.up = up.empty() ? copy.name + ".up" : expand(up, i);
    spec.layers.push_back(std::move(copy));
  }
  return Error::success();
}

} // namespace

Expected<ModelSpec> qmlir::checkpoint::parseModelSpec(StringRef json,
                                                      StringRef origin) {
  return SpecParser(origin).parse(json);
}

Expected<ModelSpec> qmlir::checkpoint::loadModelSpec(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError(path + ": cannot read: " + buffer.getError().message());
  return parseModelSpec((*buffer)->getBuffer(), path);
}
