"""qmlir.Linear: a layer of a bundle as a drop-in for torch.nn.Linear."""

import torch

from .bundle import Bundle, usage_error


class Linear(torch.nn.Module):
    """y = x W^T (+ bias) for a matmul layer of a loaded bundle whose weights
    are uploaded or bound. forward(x) takes [..., in_features] of the layer's
    activation dtype and returns [..., out_features]; the bias, when the
    layer has one, is part of the layer. Inputs with more rows than the
    layer accepts at once are run in slices of its largest M.

    forward() allocates only through torch's caching allocator (the output,
    the workspace, and a contiguous copy of a non-contiguous input) and never
    synchronises, so it can be captured with torch.cuda.graphs. The weights
    are not parameters: the module is for inference."""

    def __init__(self, bundle, layer):
        super().__init__()
        if not isinstance(bundle, Bundle):
            raise usage_error(f"qmlir.Linear: expected a qmlir.Bundle, got {type(bundle).__name__}")
        info = bundle.layer(layer)
        if info.has_residual:
            raise usage_error(f"qmlir.Linear: layer {layer} adds a residual; "
                              f"call bundle.run({layer!r}, x, residual) instead")
        self.bundle = bundle
        self.layer = layer
        self.in_features = info.k
        self.out_features = info.n
        self.has_bias = info.has_bias
        self.dtype = {"f16": torch.float16, "bf16": torch.bfloat16}.get(info.activation)
        self._m_max = info.m_max

    def extra_repr(self):
        return (f"layer={self.layer!r}, in_features={self.in_features}, "
                f"out_features={self.out_features}, bias={self.has_bias}")

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise usage_error(f"qmlir.Linear({self.layer}): input of shape {list(x.shape)}, "
                              f"expected [..., {self.in_features}]")
        rows = x.reshape(-1, self.in_features)
        if not rows.is_contiguous() or rows.data_ptr() % 16:
            rows = rows.contiguous() if not rows.is_contiguous() else rows.clone()
        m = rows.shape[0]
        if m <= self._m_max:
            out = self.bundle.run(self.layer, rows)
        else:
            out = torch.empty((m, self.out_features), dtype=rows.dtype, device=rows.device)
            for start in range(0, m, self._m_max):
                stop = min(m, start + self._m_max)
                part_x, part_out = rows[start:stop], out[start:stop]
                if part_x.data_ptr() % 16 or part_out.data_ptr() % 16:
                    # A slice's rows are 16-byte aligned only when a row is a
                    # multiple of 16 bytes; otherwise go through copies.
                    result = self.bundle.run(self.layer, part_x.clone())
                    part_out.copy_(result)
                else:
                    self.bundle.run(self.layer, part_x, out=part_out)
        return out.reshape(*x.shape[:-1], self.out_features)
