"""GPU tests of the Python package on real bundles (torch + CUDA).

  QMLIR_TEST_BUNDLES=DIR[:DIR...] python3 -m unittest test/python/gpu_layers.py

(scripts/device/run-python.sh does this on a GPU machine.) Skips without
torch or a GPU. For every layer of every bundle: the weights are uploaded
from weights.bin, or, for a bundle without weights, random ones are bound (codes in checkpoint
order, rearranged by bind_weight);
bundle.run and qmlir.Linear are checked against an fp64 reference computed
here from the stored layout (integer schemes), for odd and even M, with
bias and residual; CUDA graph capture replays to the same bits as eager runs.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpu_support import (bundle_dirs, decodable, decode_integer, read_weights,  # noqa: E402
                         require_gpu, torch)

import qmlir  # noqa: E402

TOLERANCE = {"f16": 2e-3, "bf16": 1e-2}
DTYPE = {"f16": "float16", "bf16": "bfloat16"}


def layer_entry(directory, name):
    import json
    with open(os.path.join(directory, "manifest.json")) as f:
        return next(l for l in json.load(f)["layers"] if l["name"] == name)


def random_weight(info, generator):
    """A random tensor of weight `info`'s layout: any bit pattern for codes
    and zeros, positive scales of a size that keeps outputs near 1."""
    shape = (info.rows, info.cols)
    if info.element == "i32":
        return torch.randint(-2**31, 2**31 - 1, shape, dtype=torch.int32, generator=generator)
    dtype = {"f16": torch.float16, "bf16": torch.bfloat16, "f32": torch.float32}[info.element]
    return (torch.rand(shape, generator=generator) * 0.02 + 0.001).to(dtype)


def canonical(bundle, layer, part, tensor):
    """A stored weight tensor (CPU) in checkpoint order."""
    raw = bundle.arrange_weight(layer, part, tensor.contiguous().view(torch.uint8).numpy().tobytes(),
                                to_canonical=True)
    return torch.frombuffer(bytearray(raw), dtype=tensor.dtype).reshape(tensor.shape)


class LayerTest(unittest.TestCase):
    def setUp(self):
        require_gpu(self)
        if not bundle_dirs():
            self.skipTest("QMLIR_TEST_BUNDLES names no bundle")
        self.generator = torch.Generator().manual_seed(7)

    def prepare(self, directory):
        """An opened, loaded bundle with every layer's weights in place, and
        the CPU copies of the weights by layer."""
        bundle = qmlir.Bundle(directory).load()
        if any(w.in_bundle for name in bundle.layers for w in bundle.weights(name)):
            bundle.upload_weights()
        weights = {}
        for name in bundle.layers:
            infos = bundle.weights(name)
            if all(w.in_bundle for w in infos):
                # weights.bin holds codes in the layer's layout; the
                # reference decodes checkpoint order.
                stored = read_weights(directory, name)[1]
                weights[name] = {
                    part: canonical(bundle, name, part, tensor) for part, tensor in stored.items()}
            else:
                weights[name] = {}
                for info in infos:
                    tensor = random_weight(info, self.generator)
                    weights[name][info.name] = tensor
                    bundle.bind_weight(name, info.name, tensor.cuda())
        return bundle, weights

    def reference(self, entry, layer, parts, x, residual):
        """fp64 reference of the layer, or None for schemes not decoded here."""
        def decode(scheme, prefix):
            sub = {k[len(prefix):]: v for k, v in parts.items() if k.startswith(prefix)}
            return decode_integer(scheme, layer.n, layer.k, sub)
        x64 = x.double().cpu()
        if layer.op == "matmul":
            if not decodable(entry["scheme"]):
                return None
            out = x64 @ decode(entry["scheme"], "").T
            if layer.has_bias:
                out = out + parts["bias"].double().reshape(1, -1)
        else:
            if not (decodable(entry["scheme"]) and decodable(entry["up_scheme"])):
                return None
            gate = x64 @ decode(entry["scheme"], "gate.").T
            up = x64 @ decode(entry["up_scheme"], "up.").T
            out = gate * torch.sigmoid(gate) * up
        if residual is not None:
            out = out + residual.double().cpu()
        return out

    def check_close(self, got, want, activation, what):
        got = got.double().cpu()
        self.assertFalse(torch.isnan(got).any() or torch.isinf(got).any(), what)
        error = (got - want).norm() / want.norm().clamp_min(1e-30)
        self.assertLessEqual(error.item(), TOLERANCE[activation], f"{what}: rel_err {error:.3g}")

    def test_layers_against_reference(self):
        checked = 0
        for directory in bundle_dirs():
            bundle, weights = self.prepare(directory)
            for name in bundle.layers:
                layer = bundle.layer(name)
                entry = layer_entry(directory, name)
                dtype = getattr(torch, DTYPE[layer.activation])
                for m in sorted({1, 7, 16, 33, min(129, layer.m_max)}):
                    if m > layer.m_max:
                        continue
                    x = torch.randn(m, layer.k, generator=self.generator).to(dtype).cuda()
                    residual = (torch.randn(m, layer.n, generator=self.generator).to(dtype).cuda()
                                if layer.has_residual else None)
                    out = bundle.run(name, x, residual)
                    self.assertEqual(tuple(out.shape), (m, layer.n))
                    want = self.reference(entry, layer, weights[name], x, residual)
                    torch.cuda.synchronize()
                    if want is not None:
                        self.check_close(out, want, layer.activation, f"{directory} {name} M={m}")
                        checked += 1
            bundle.close()
        print(f"gpu_layers: {checked} layer runs checked against the reference")

    def test_linear_and_graph_capture(self):
        for directory in bundle_dirs():
            bundle, _ = self.prepare(directory)
            for name in bundle.layers:
                layer = bundle.layer(name)
                if layer.op != "matmul" or layer.has_residual:
                    continue
                linear = qmlir.Linear(bundle, name)
                self.assertEqual((linear.in_features, linear.out_features), (layer.k, layer.n))
                dtype = getattr(torch, DTYPE[layer.activation])
                x = torch.randn(2, 3, layer.k, generator=self.generator).to(dtype).cuda()
                y = linear(x)
                self.assertEqual(tuple(y.shape), (2, 3, layer.n))
                flat = bundle.run(name, x.reshape(6, layer.k))
                self.assertTrue(torch.equal(y.reshape(6, layer.n), flat))
                # A non-contiguous input gives the same result.
                wide = torch.randn(6, 2 * layer.k, generator=self.generator).to(dtype).cuda()
                strided = wide[:, ::2]
                self.assertTrue(torch.equal(linear(strided), bundle.run(name, strided.contiguous())))

                static_x = torch.randn(5, layer.k, generator=self.generator).to(dtype).cuda()
                stream = torch.cuda.Stream()
                stream.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(stream):
                    linear(static_x)  # warm-up outside capture
                torch.cuda.current_stream().wait_stream(stream)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    static_y = linear(static_x)
                for _ in range(3):
                    static_x.copy_(torch.randn(5, layer.k, generator=self.generator).to(dtype))
                    graph.replay()
                    torch.cuda.synchronize()
                    self.assertTrue(torch.equal(static_y, linear(static_x)), f"{name}: graph replay")
            bundle.close()

    def test_argument_errors(self):
        directory = bundle_dirs()[0]
        bundle = qmlir.Bundle(directory).load()
        name = bundle.layers[0]
        layer = bundle.layer(name)
        dtype = getattr(torch, DTYPE[layer.activation])
        x = torch.randn(4, layer.k).to(dtype).cuda()
        residual = torch.zeros(4, layer.n, dtype=dtype, device="cuda") if layer.has_residual else None
        # Weights neither uploaded nor bound: the runtime refuses.
        with self.assertRaises(qmlir.Error) as caught:
            bundle.run(name, x, residual)
        self.assertEqual(caught.exception.status_name, "QMLIR_ERROR_NOT_BOUND")
        self.assertIn(name, caught.exception.message)
        cases = {
            "dtype": (x.float(), "dtype"),
            "shape": (x[:, :-1].contiguous(), "shape"),
            "contiguity": (torch.randn(layer.k, 4).to(dtype).cuda().T, "not contiguous"),
            "alignment": (torch.randn(4 * layer.k + 1).to(dtype).cuda()[1:].view(4, layer.k),
                          "16-byte aligned"),
            "device": (x.cpu(), "on cpu"),
        }
        for what, (bad, message) in cases.items():
            with self.assertRaises(qmlir.Error, msg=what) as caught:
                bundle.run(name, bad, residual)
            self.assertEqual(caught.exception.status_name, "QMLIR_ERROR_INVALID_ARGUMENT")
            self.assertIn(message, caught.exception.message, what)
        with self.assertRaises(qmlir.Error) as caught:
            bundle.layer("no.such.layer")
        self.assertEqual(caught.exception.status_name, "QMLIR_ERROR_NOT_FOUND")
        bundle.close()


if __name__ == "__main__":
    unittest.main()
