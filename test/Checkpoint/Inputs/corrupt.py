#!/usr/bin/env python3
"""Makes broken safetensors files for the lit tests (standard library only).

  corrupt.py truncate SRC DST BYTES          first BYTES bytes of SRC
  corrupt.py header-length SRC DST VALUE     the 8-byte length set to VALUE
  corrupt.py set SRC DST TENSOR FIELD JSON   a header field replaced (data kept)
  corrupt.py drop SRC DST TENSOR             a tensor and its bytes removed
  corrupt.py append SRC DST BYTES            BYTES zero bytes appended
"""
import json
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def write(path, header, body):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    open(path, "wb").write(struct.pack("<Q", len(text)) + text + body)


def main(mode, src, dst, *args):
    data = open(src, "rb").read()
    if mode == "truncate":
        open(dst, "wb").write(data[:int(args[0])])
    elif mode == "header-length":
        open(dst, "wb").write(struct.pack("<Q", int(args[0])) + data[8:])
    elif mode == "append":
        open(dst, "wb").write(data + bytes(int(args[0])))
    elif mode == "set":
        header, body = read(src)
        header[args[0]][args[1]] = json.loads(args[2])
        write(dst, header, body)
    elif mode == "drop":
        header, body = read(src)
        begin, end = header.pop(args[0])["data_offsets"]
        for name, info in header.items():
            if name != "__metadata__" and info["data_offsets"][0] >= end:
                info["data_offsets"] = [o - (end - begin) for o in info["data_offsets"]]
        write(dst, header, body[:begin] + body[end:])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main(*sys.argv[1:])
