#!/usr/bin/env python3
"""Seed corpora for the fuzzers, from the repository's tests.

  fuzz/make-seeds.py BUILD_DIR OUT_DIR

OUT_DIR/manifest: every manifest.json the lit tests wrote under
BUILD_DIR/test (run the tests that compile bundles first, e.g.
test/tools/qmlir-compile), and the JSON examples of docs/Bundle.md.
OUT_DIR/safetensors: for every .safetensors file under test/, the same
tensors (names, dtypes, metadata) with every dimension cut to at most 2 and
the data taken from the file, so that seeds stay small (a few hundred bytes)
and mutations hit the header rather than weights.
"""

import hashlib
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8, "I8": 1, "I16": 2, "I32": 4,
         "I64": 8, "U8": 1, "U16": 2, "U32": 4, "U64": 8, "BOOL": 1,
         "F8_E4M3": 1, "F8_E5M2": 1}


def save(directory, data):
    os.makedirs(directory, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def manifests(build, out):
    count = 0
    for dirpath, _, files in os.walk(os.path.join(build, "test")):
        if "manifest.json" in files:
            with open(os.path.join(dirpath, "manifest.json"), "rb") as f:
                save(out, f.read())
            count += 1
    with open(os.path.join(ROOT, "docs", "Bundle.md")) as f:
        for block in re.findall(r"```json\n(.*?)```", f.read(), re.S):
            save(out, block.encode())
            count += 1
    return count


def shrink(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    tensors = sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                     key=lambda item: item[1]["data_offsets"][0])
    out_header = {}
    if "__metadata__" in header:
        out_header["__metadata__"] = header["__metadata__"]
    out_body = b""
    for name, info in tensors:
        shape = [min(d, 2) for d in info["shape"]]
        count = 1
        for d in shape:
            count *= d
        size = count * SIZES[info["dtype"]]
        begin = info["data_offsets"][0]
        out_header[name] = {"dtype": info["dtype"], "shape": shape,
                            "data_offsets": [len(out_body), len(out_body) + size]}
        out_body += body[begin:begin + size]
    text = json.dumps(out_header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + out_body


def safetensors(out):
    count = 0
    for dirpath, _, files in os.walk(os.path.join(ROOT, "test")):
        for name in files:
            if name.endswith(".safetensors"):
                save(out, shrink(os.path.join(dirpath, name)))
                count += 1
    return count


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build, out = sys.argv[1:]
    print(f"manifest: {manifests(build, os.path.join(out, 'manifest'))} seeds")
    print(f"safetensors: {safetensors(os.path.join(out, 'safetensors'))} seeds")


if __name__ == "__main__":
    main()
