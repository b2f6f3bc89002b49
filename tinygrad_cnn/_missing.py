"""PyTorch names that tinygrad_cnn does not have, with what to do instead: a script ported by
swapping its imports reads one line that says so (was: ``AttributeError: module 'tinygrad_cnn'
has no attribute 'compile'``, which suggests nothing). Each module that lists names here raises
:func:`no_attribute` from its ``__getattr__``."""

from __future__ import annotations

import dis
import sys
from typing import Any

_EAGER = "tinygrad_cnn runs every op eagerly on numpy"

MISSING: dict[str, dict[str, str]] = {
    "tinygrad_cnn": {
        "compile": f"{_EAGER}, with no compiler: delete `model = torch.compile(model)` and call "
                   "the model itself",
        "bfloat16": "numpy has no bfloat16: use float16 (tinygrad_cnn.float16) or float32",
        **{name: "unsigned integers wider than uint8 are not supported (PyTorch's support for "
                 "them is partial too): use int32 or int64"
           for name in ("uint16", "uint32", "uint64")},
        **{name: "complex tensors are not supported: keep the real and imaginary parts as two "
                 "float tensors"
           for name in ("complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf")},
        **{name: "3-d ops are not implemented (their 1-d and 2-d forms are)"
           for name in ("conv3d", "conv_transpose3d", "max_pool3d")},
        "constant_pad_nd": "use nn.functional.pad(x, pad, value=v) (mode 'constant')",
        **{name: "complex tensors are not supported: keep the real and imaginary parts as two "
                 "float tensors (rotary embeddings: the rotate_half form, x * cos + "
                 "rotate_half(x) * sin)"
           for name in ("polar", "complex", "view_as_real", "view_as_complex")},
        **{name: "there are no sparse tensors: use a dense tensor, and index_add_ / scatter_add_ "
                 "for the sparse products (message passing)"
           for name in ("sparse", "sparse_coo_tensor", "sparse_csr_tensor")},
        **{name: "there are no _foreach ops: loop over the lists (for p, q in zip(ps, qs): "
                 "p.lerp_(q, w)), which gives the same values"
           for name in ("_foreach_add", "_foreach_add_", "_foreach_mul", "_foreach_mul_",
                        "_foreach_sub", "_foreach_sub_", "_foreach_div", "_foreach_div_",
                        "_foreach_lerp_", "_foreach_addcmul_", "_foreach_addcdiv_",
                        "_foreach_copy_", "_foreach_zero_", "_foreach_sqrt",
                        "_foreach_neg", "_foreach_maximum_", "_foreach_clamp_min_")},
        "_foreach_norm": "there are no _foreach ops: [t.norm() for t in tensors] (or "
                         "nn.utils.get_total_norm for the norm of them all)",
        "is_autocast_enabled": "there is no automatic mixed precision: autocast only runs "
                               "disabled here, so this would always be False",
        **{name: "there is no FFT: numpy.fft on t.numpy() computes it (without a gradient)"
           for name in ("fft", "stft", "istft")},
        "poisson": "not implemented: numpy.random.default_rng().poisson(rates.numpy()) draws "
                   "the counts (a sample has no gradient anyway)",
        "logdet": "not implemented: tinygrad_cnn.linalg.det(A).log() for a positive "
                  "determinant (with its gradient)",
        **{name: "not implemented (linalg has det, inv, svd, svdvals, norm, vector_norm, "
                 "matrix_norm, matrix_power and cross): numpy.linalg or scipy.linalg computes "
                 "the value without a gradient"
           for name in ("slogdet", "cholesky", "cholesky_solve", "cholesky_inverse", "lu",
                        "lu_solve", "qr", "pinverse", "matrix_exp", "triangular_solve",
                        "lstsq", "eig")},
        "native_channel_shuffle": "use channel_shuffle (the same values)",
        "hub": "there is no model hub (no network): build the model from tinygrad_cnn.models or "
               "nn, and load PyTorch weights with model.load_state_dict(tinygrad_cnn.load(path))",
        "profiler": "there is no profiler: time with time.perf_counter, or run python -m cProfile",
        "types": "there is no torch.types: annotate with tinygrad_cnn.Tensor, int and tuple",
        "conv_tbc": "not implemented: permute (time, batch, channels) to (batch, channels, time) "
                    "and use conv1d",
        **{name: "8-bit floats are not supported: use float16 or float32"
           for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz")},
        "distributions": "there is no distributions package: sample with tinygrad_cnn.randn "
                         "(a Normal's rsample is mu + std * randn_like(std)) and write the KL "
                         "term out (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum())",
        "jit": f"{_EAGER}: there is no TorchScript (torch.jit.script/trace); call the model "
               "itself and save its state_dict",
        "fx": f"{_EAGER}: there is no graph tracer; the recorded autograd graph is drawn by "
              "tinygrad_cnn.viz.draw(loss)",
        "multiprocessing": "there are no shared-memory tensors between processes: use "
                           "Python's multiprocessing with numpy arrays (t.numpy())",
        "set_default_device": "tensors are made on the CPU unless given device='cuda': pass "
                              "device= to the factory, or move with .to('cuda')",
        "get_default_device": "tensors are made on the CPU unless given device= (the default "
                              "device is always 'cpu')",
        "vmap": "there is no vmap: loop over the batch (torch.stack of the per-sample "
                "results), or write the function for a batch",
        "as_strided": "there is no as_strided (a view of arbitrary strides): build the view "
                      "from unfold, expand, diagonal, reshape and slicing",
        **{name: f"there is no {name}: numpy.{name}(a.numpy(), b.numpy()) computes it (integer "
                 "tensors have no gradient)" for name in ("gcd", "lcm")},
    },
    "tinygrad_cnn.linalg": {
        **{name: "not implemented (linalg has det, inv, svd, svdvals, norm, vector_norm, "
                 "matrix_norm, matrix_power and cross): numpy.linalg or scipy.linalg computes "
                 "the value without a gradient"
           for name in ("solve", "slogdet", "cholesky", "eigh", "eig", "eigvalsh", "qr",
                        "pinv", "lstsq", "matrix_rank", "solve_triangular", "multi_dot",
                        "householder_product", "lu_factor", "lu", "lu_solve", "solve_ex",
                        "cholesky_ex", "inv_ex", "ldl_factor")},
        "matrix_exp": "not implemented: scipy.linalg.expm computes the value without a gradient",
    },
    "tinygrad_cnn.autograd": {
        "graph": "there is no torch.autograd.graph (saved_tensors_hooks, save_on_cpu, "
                 "register_multi_grad_hook, Node): saved tensors stay in memory as they are; "
                 "hook each tensor with t.register_hook, or a node with grad_fn.register_hook",
        "forward_ad": "there is no forward-mode AD: "
                      "tinygrad_cnn.autograd.functional.jvp computes J @ v (through two "
                      "backward passes)",
        "profiler": "there is no autograd profiler: time with time.perf_counter, or run "
                    "python -m cProfile",
    },
    "tinygrad_cnn.nn": {
        "common_types": "there is no torch.nn.common_types: annotate sizes as int or "
                        "tuple[int, ...]",
        "MultiheadAttention": "not implemented: write the attention out -- q @ k.transpose(-2, "
                              "-1) / d**0.5, softmax(-1), @ v -- or use "
                              "nn.functional.scaled_dot_product_attention",
        "TransformerEncoderLayer": "not implemented: build it from nn.Linear, nn.LayerNorm, "
                                   "nn.Dropout and nn.functional.scaled_dot_product_attention",
        "TransformerDecoderLayer": "not implemented: build it from nn.Linear, nn.LayerNorm, "
                                   "nn.Dropout and nn.functional.scaled_dot_product_attention",
        "Transformer": "not implemented: build it from nn.Linear, nn.LayerNorm, nn.Dropout "
                       "and nn.functional.scaled_dot_product_attention",
        "RNN": "recurrent layers are not implemented: unroll the recurrence with nn.Linear and "
               "tanh over the time steps",
        "LSTM": "recurrent layers are not implemented: unroll the recurrence with nn.Linear, "
                "sigmoid and tanh over the time steps",
        "GRU": "recurrent layers are not implemented: unroll the recurrence with nn.Linear, "
               "sigmoid and tanh over the time steps",
        "Conv3d": "3-d convolution is not implemented (conv1d, conv2d, conv_transpose1d and "
                  "conv_transpose2d are)",
        **{name: f"recurrent layers are not implemented: unroll the {kind} cell with nn.Linear "
                 f"and {acts} over the time steps"
           for name, kind, acts in (("RNNCell", "RNN", "tanh"),
                                    ("LSTMCell", "LSTM", "sigmoid and tanh"),
                                    ("GRUCell", "GRU", "sigmoid and tanh"))},
        **{name: "not implemented: stack your encoder (decoder) layers built from nn.Linear, "
                 "nn.LayerNorm, nn.Dropout and nn.functional.scaled_dot_product_attention in "
                 "an nn.ModuleList"
           for name in ("TransformerEncoder", "TransformerDecoder")},
        **{name: "3-d layers are not implemented (their 1-d and 2-d forms are)"
           for name in ("ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d",
                        "AdaptiveMaxPool3d", "LPPool3d", "MaxUnpool3d", "FractionalMaxPool3d",
                        "LazyConv3d", "LazyConvTranspose3d")},
        **{name: f"lazy layers are not implemented: give {name.removeprefix('Lazy')} its input "
                 "size (in_features / in_channels / num_features) yourself"
           for name in ("LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConvTranspose1d",
                        "LazyConvTranspose2d", "LazyBatchNorm1d", "LazyBatchNorm2d",
                        "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d")},
        "SyncBatchNorm": "there is no distributed training: use nn.BatchNorm2d (one process)",
        "DataParallel": "there is no multi-device training: call the model itself",
        "parallel": "there is no multi-device training (DataParallel, "
                    "DistributedDataParallel): call the model itself",
        "EmbeddingBag": "not implemented: nn.Embedding then .sum(1) / .mean(1) / .amax(1) over "
                        "each bag (pad bags to one length and mask the padding)",
        "FractionalMaxPool2d": "not implemented: nn.MaxPool2d or nn.AdaptiveMaxPool2d (to an "
                               "output size) pool without the random window positions",
        "Buffer": "there is no Buffer class: register a buffer with "
                  "self.register_buffer(name, tensor) in the module's __init__",
        "CTCLoss": "not implemented: CTC's forward-backward recursion has no counterpart here; "
                   "compute it with torch or write the alpha recursion with logsumexp",
        "AdaptiveLogSoftmaxWithLoss": "not implemented: nn.Linear then nn.CrossEntropyLoss over "
                                      "the full vocabulary computes the same loss exactly",
        "CrossMapLRN2d": "not implemented: nn.LocalResponseNorm normalises across channels",
        "NLLLoss2d": "removed from PyTorch too: nn.NLLLoss takes (N, C, H, W) input",
        "LazyInstanceNorm3d": "lazy layers and 3-d layers are not implemented: give "
                              "InstanceNorm2d (or 1d) its num_features yourself",
        **{name: "lazy layers are not implemented, so there are no uninitialized parameters: "
                 "give each layer its input size yourself"
           for name in ("UninitializedParameter", "UninitializedBuffer")},
        "Container": "removed from PyTorch long ago: subclass nn.Module (or use nn.Sequential, "
                     "nn.ModuleList, nn.ModuleDict)",
        **{name: "recurrent layers are not implemented: unroll the recurrence with nn.Linear "
                 "and tanh (or sigmoid) over the time steps"
           for name in ("RNNBase", "RNNCellBase")},
        "LinearCrossEntropyLoss": "not implemented: nn.Linear then nn.CrossEntropyLoss computes "
                                  "the same loss",
    },
    "tinygrad_cnn.nn.functional": {
        "grid_sample": "not implemented (interpolate and pad are; a warp has no counterpart)",
        "affine_grid": "not implemented (interpolate and pad are; a warp has no counterpart)",
        "conv3d": "3-d convolution is not implemented (conv1d, conv2d, conv_transpose1d and "
                  "conv_transpose2d are)",
        **{name: "3-d ops are not implemented (their 1-d and 2-d forms are)"
           for name in ("conv_transpose3d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d",
                        "adaptive_max_pool3d", "lp_pool3d", "max_unpool3d")},
        "multi_head_attention_forward": "not implemented: use scaled_dot_product_attention on "
                                        "projected q, k, v",
        **{name: "not implemented: max_pool2d or adaptive_max_pool2d (to an output size) pool "
                 "without the random window positions"
           for name in ("fractional_max_pool2d", "fractional_max_pool3d")},
        "embedding_bag": "not implemented: embedding then .sum(1) / .mean(1) / .amax(1) over "
                         "each bag (pad bags to one length and mask the padding)",
        "native_channel_shuffle": "use channel_shuffle (the same values)",
        "ctc_loss": "CTC is not implemented (there are no recurrent layers either): its "
                    "forward-backward recursion over log_softmax outputs would be written out "
                    "with logsumexp",
    },
    "tinygrad_cnn.special": {
        **{name: f"not implemented: scipy.special.{name} computes the value (without a "
                 "gradient)"
           for name in ("i0", "i0e", "i1", "i1e", "ndtri", "erfcx", "zeta", "bessel_j0",
                        "bessel_j1", "spherical_bessel_j0", "airy_ai")},
        "log_ndtr": "not implemented: special.ndtr(x).log() for moderate x (its far left tail "
                    "underflows; scipy.special.log_ndtr holds it, without a gradient)",
        "entr": "not implemented: -x * x.log() for x > 0 (0 at 0, -inf below), written with "
                "tinygrad_cnn.where",
        "xlog1py": "not implemented: tinygrad_cnn.where(x == 0, 0, x * y.log1p())",
    },
    "tinygrad_cnn.nn.utils": {
        "spectral_norm": "not implemented: divide the weight by its largest singular value "
                         "yourself (power iteration on weight.reshape(out, -1)) in forward",
        "weight_norm": "not implemented: keep g and v as Parameters and use g * v / v.norm() "
                       "as the weight in forward",
        "parametrizations": "parametrizations are not implemented (no weight_norm, "
                            "spectral_norm, orthogonal)",
        "parametrize": "parametrizations are not implemented",
        "prune": "pruning is not implemented: multiply the weight by a 0/1 mask tensor in "
                 "forward (or zero it in place under no_grad)",
        "fusion": "there is no conv/batch-norm fusion helper: in eval mode a fused weight is "
                  "w * (gamma / sqrt(var + eps)).reshape(-1, 1, 1, 1), its bias "
                  "(b - mean) * gamma / sqrt(var + eps) + beta",
    },
    "tinygrad_cnn.nn.utils.rnn": {
        name: "recurrent layers are not implemented, so there are no packed sequences: pad "
              "with pad_sequence (here) and mask the padding"
        for name in ("pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
                     "unpack_sequence", "PackedSequence")
    },
    "tinygrad_cnn.distributed": {
        name: "there is no distributed training here (one process): "
              "tinygrad_cnn.distributed.is_available() is False; guard the set-up with it, or "
              "delete it"
        for name in ("init_process_group", "get_rank", "get_world_size", "barrier",
                     "all_reduce", "broadcast", "all_gather", "destroy_process_group",
                     "ReduceOp", "new_group", "reduce", "gather", "scatter", "send", "recv")
    },
    "tinygrad_cnn.cuda": {
        "graphs": f"{_EAGER}: there are no CUDA graphs; call the model itself",
        "CUDAGraph": f"{_EAGER}: there are no CUDA graphs; call the model itself",
    },
    "tinygrad_cnn.func": {
        **{name: "there is no functorch here (only functional_call): "
                 "tinygrad_cnn.autograd.functional has jacobian, hessian, vjp, jvp, hvp and vhp, "
                 "and tinygrad_cnn.autograd.grad the gradient; loop over a batch where vmap "
                 "would map"
           for name in ("grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
                        "vmap", "linearize", "functionalize", "stack_module_state")},
    },
    "tinygrad_cnn.optim": {
        "Adafactor": "not implemented: Adam (or AdamW) takes its place, with a full second "
                     "moment per parameter",
        "SparseAdam": "there are no sparse gradients (an Embedding's gradient is dense): use Adam",
    },
    "tinygrad_cnn.utils.data": {
        "distributed": "there is no distributed training here (one process): use the "
                       "DataLoader's own sampler (shuffle=True) instead of a DistributedSampler",
        "DistributedSampler": "there is no distributed training here (one process): use the "
                              "DataLoader's own sampler (shuffle=True)",
    },
    "tinygrad_cnn.nn.modules": {
        "lazy": "there are no lazy layers: give in_features / in_channels when making the layer",
    },
    "tinygrad_cnn.nn.modules.conv": {
        **{name: "there is no shared convolution base class: subclass Conv2d (or Conv1d, "
                 "ConvTranspose2d) and override forward, or write a Module calling "
                 "nn.functional.conv2d"
           for name in ("_ConvNd", "_ConvTransposeNd", "_ConvTransposeMixin")},
        "Conv3d": "3-d convolution is not implemented (Conv1d and Conv2d are)",
    },
    "tinygrad_cnn.utils": {
        "checkpoint": "there is no activation checkpointing: call the block itself (every "
                      "activation is kept for backward)",
        "tensorboard": "there is no TensorBoard writer: log with print or to a file",
    },
}


class MissingModules:
    """A finder at the end of ``sys.meta_path``: ``import tinygrad_cnn.jit`` or ``from
    tinygrad_cnn.nn.parallel import DistributedDataParallel`` -- a PyTorch module listed in
    :data:`MISSING` -- is a ModuleNotFoundError with the way out (was Python's bare "No module
    named ..."). Asked only after every real finder found nothing."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> None:
        module, _, name = fullname.rpartition(".")
        advice = MISSING.get(module, {}).get(name)
        # only for an import: importlib.util.find_spec(name) asks too, and its contract is None
        # for a module that is not there (`if find_spec("torch.cuda.amp"):` feature tests)
        if advice is not None and _importing_module(sys._getframe(1)):
            short = fullname.replace("tinygrad_cnn", "torch", 1)
            raise ModuleNotFoundError(f"No module named {fullname!r} (PyTorch's {short}): "
                                      f"{advice}", name=fullname)
        return None


def _importing_module(frame: Any) -> bool:
    """Whether the import system's search that asks (``frame``) serves an import (the
    bootstrap's ``_find_and_load``), not ``importlib.util.find_spec``."""
    for _ in range(4):
        frame = frame.f_back if frame is not None else None
        if frame is None:
            return False
        if frame.f_code.co_name == "_find_and_load_unlocked":
            return True
        if frame.f_code.co_name == "find_spec" and "util" in frame.f_code.co_filename:
            return False
    return False


def install_finder() -> None:
    """Put :class:`MissingModules` on ``sys.meta_path`` once."""
    if not any(f is MissingModules for f in sys.meta_path):
        sys.meta_path.append(MissingModules)  # type: ignore[arg-type]


def no_attribute(module: str, name: str) -> AttributeError | ImportError:
    """The error for a missing attribute of ``module``: with the way out when ``name`` is a
    PyTorch name listed in :data:`MISSING`. For ``from module import name`` it is an
    ``ImportError`` with that advice: Python turns an ``AttributeError`` raised there into its
    own "cannot import name", which drops the advice."""
    advice = MISSING.get(module, {}).get(name)
    if advice is None:
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    short = module.replace("tinygrad_cnn", "torch", 1)
    if _importing(sys._getframe(2)):  # (this <- the module's __getattr__ <- the importer)
        return ImportError(f"cannot import name {name!r} from {module!r} (PyTorch's "
                           f"{short}.{name}): {advice}", name=module)
    return AttributeError(f"module {module!r} has no attribute {name!r} (PyTorch's "
                          f"{short}.{name}): {advice}")


def _importing(frame: Any) -> bool:
    """Whether ``frame`` stands at a ``from ... import`` (its instruction is IMPORT_FROM)."""
    try:
        return frame.f_code.co_code[frame.f_lasti] == dis.opmap["IMPORT_FROM"]
    except (AttributeError, IndexError, KeyError, TypeError):
        return False
