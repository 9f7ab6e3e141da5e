"""Prints what a model bundle's manifest says, one fact per line, for FileCheck:
layer and kernel counts, the kernels the layers dispatch to, the first
layer's M buckets, the kernels' layouts, whether weights
have offsets, and whether weights.bin matches the manifest's size."""
import json
import os
import sys

directory = sys.argv[1]
manifest = json.load(open(os.path.join(directory, "manifest.json")))
layers = manifest["layers"]
print("format_version", manifest["format_version"])
print("layers", len(layers))
print("kernels", len(manifest["kernels"]))
print("dispatched kernels", len({d["kernel"] for l in layers for d in l["dispatch"]}))
print("first layer's M ranges", [(d["m_min"], d["m_max"]) for d in layers[0]["dispatch"]])
print("layouts", sorted({k.get("layout", "canonical") for k in manifest["kernels"]}))
for layer in layers[:1] + layers[-1:]:
    print("layer", layer["name"], layer["op"], layer["n"], layer["k"],
          "bias" if layer["bias"] else "-", "residual" if layer["residual"] else "-",
          [w["name"] for w in layer["weights"]])
offsets = [w.get("offset") for l in layers for w in l["weights"]]
print("weights with offsets", sum(o is not None for o in offsets), "of", len(offsets))
path = os.path.join(directory, "weights.bin")
if "weights" in manifest:
    print("weights.bin", os.path.getsize(path) == manifest["weights"]["bytes"] and "matches" or "differs")
else:
    print("weights.bin", "present" if os.path.exists(path) else "absent")
